"""Benchmark: conv backbone training and inference cost by memory layout and thread count.

Usage:
    .venv/bin/python benchmarks/conv_layout.py [--steps 25] [--shape 112 112 --blocks 5]

Defaults are the AV-MNIST audio backbone (112x112 spectrograms, 5 blocks of 3 channels), the
most expensive backbone of `make run`. Trains the same net (Adam, batch 128, random inputs)
in the default (contiguous) and the channels-last layout at 1 and 2 threads, and prints a
markdown table: ms per training step, core-ms per step (ms x threads, what a 2-core machine
pays), ms per 512-sample inference batch, and each row's core-ms as a ratio of the
contiguous 2-thread row (the layout and threads `make run` used before channels-last).
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from mfas_core.unimodal.backbones import ConvBackbone


def _time_training(model: ConvBackbone, shape: tuple[int, ...], steps: int) -> float:
    """Seconds per Adam step on a random batch of 128 (after 3 warm-up steps)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(128, *shape, generator=gen)
    y = torch.randint(0, 10, (128,), generator=gen)
    opt = torch.optim.Adam(model.parameters())
    model.train()

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(3):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


@torch.no_grad()
def _time_inference(model: ConvBackbone, shape: tuple[int, ...], reps: int = 5) -> float:
    """Seconds per forward pass of 512 samples."""
    model.eval()
    x = torch.randn(512, *shape, generator=torch.Generator().manual_seed(1))
    model(x)
    start = time.perf_counter()
    for _ in range(reps):
        model(x)
    return (time.perf_counter() - start) / reps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--shape", type=int, nargs="+", default=[112, 112])
    ap.add_argument("--blocks", type=int, default=5)
    ap.add_argument("--channels", type=int, default=3)
    args = ap.parse_args()
    shape = tuple(args.shape)

    rows = []
    for channels_last in (False, True):
        for threads in (1, 2):
            torch.set_num_threads(threads)
            torch.manual_seed(0)
            model = ConvBackbone(shape, 10, args.blocks, args.channels, channels_last)
            train_s = _time_training(model, shape, args.steps)
            infer_s = _time_inference(model, shape)
            rows.append((channels_last, threads, train_s, infer_s))

    base = next(r[2] * r[1] for r in rows if not r[0] and r[1] == 2)
    print(f"conv backbone, input {shape}, {args.blocks} blocks, {args.steps} steps per cell\n")
    print(
        "| layout | threads | ms/step | core-ms/step | ms/512 inference | core-ms vs contiguous 2 threads |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for channels_last, threads, train_s, infer_s in rows:
        core = train_s * threads
        layout = "channels-last" if channels_last else "contiguous"
        print(
            f"| {layout} | {threads} | {train_s * 1e3:.0f} | {core * 1e3:.0f} "
            f"| {infer_s * 1e3:.0f} | {core / base:.2f} |"
        )


if __name__ == "__main__":
    main()
