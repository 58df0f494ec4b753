"""Train an image encoder once on MNIST and save its state_dict, for the `type: module` route.

    python benchmarks/pretrain_mnist_encoder.py results/pretrained/mnist_lenet.pt [--n 20000]

The net (`lenet`, the factory config/avmnist_pretrained.yaml names) is a small LeNet-style CNN
with named blocks block1..block3 (the taps) and a 10-way classifier. It trains on the first
`--n` digits of MNIST's first 55,000 training images (AV-MNIST's training pool; its val and
test digits are never seen), clean (without AV-MNIST's PCA degradation), plain Adam, seeded.
Prints one table: samples, epochs, seconds, accuracy on MNIST's test set.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn


def lenet() -> nn.Module:
    """block1 (8 ch, 14x14), block2 (16 ch, 7x7), block3 (32 ch, 4x4), pooled -> fc (10)."""

    def block(cin: int, cout: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode=True),
        )

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.block1, self.block2, self.block3 = block(1, 8), block(8, 16), block(16, 32)
            self.fc = nn.Linear(32, 10)

        def forward(self, x):
            if x.dim() == 3:  # [B, 28, 28] images
                x = x.unsqueeze(1)
            x = self.block3(self.block2(self.block1(x)))
            return self.fc(x.mean(dim=(2, 3)))

    return LeNet()


def pretrain(
    images: np.ndarray, labels: np.ndarray, out: str | Path, *, epochs: int = 2, seed: int = 0
) -> nn.Module:
    """Train lenet() on images [N, 28, 28] in [0, 1]; save its state_dict to `out`."""
    from mfas_core.atomic import atomic_path

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = lenet()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    x, y = torch.from_numpy(images.astype(np.float32)), torch.from_numpy(labels.astype(np.int64))
    net.train()
    for _ in range(epochs):
        for idx in np.array_split(rng.permutation(len(x)), max(1, len(x) // 64)):
            opt.zero_grad()
            nn.functional.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
    net.eval()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        torch.save(net.state_dict(), tmp)
    return net


def accuracy(net: nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    with torch.no_grad():
        pred = torch.cat(
            [net(torch.from_numpy(images[i : i + 1000].astype(np.float32))).argmax(1)
             for i in range(0, len(images), 1000)]
        )  # fmt: skip
    return float((pred.numpy() == labels).mean())


def main(argv: list[str] | None = None) -> None:
    from mfas_core.data.mnist import load_mnist

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=20000, help="training digits (of the first 55,000)")
    ap.add_argument("--epochs", type=int, default=2)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    x_tr, y_tr, _ = load_mnist("train")
    x_te, y_te, _ = load_mnist("test")
    t0 = time.perf_counter()
    net = pretrain(x_tr[: min(a.n, 55000)] / 255.0, y_tr[: min(a.n, 55000)], a.out, epochs=a.epochs)
    seconds = time.perf_counter() - t0
    acc = accuracy(net, x_te / 255.0, y_te)
    print("| samples | epochs | seconds | MNIST test accuracy |\n|---|---|---|---|")
    print(f"| {min(a.n, 55000):,} | {a.epochs} | {seconds:.0f} | {100 * acc:.2f} % |")
    print(f"saved {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
