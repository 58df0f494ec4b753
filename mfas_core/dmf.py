"""Dense Multimodal Fusion (Hu et al.): EMF, IMF and DMF networks, their training and encoding.

Every model is a small directed graph of sigmoid layers (paper Fig. 1, Eq. 1-4):
- x1, y1 are the two inputs; x2.., y2.. the modality layers; s1.. the shared layers.
- EMF: [x1; y1] -> s1 -> s2 -> ... (early fusion).
- IMF: x1 -> x2 -> .. -> xL, same for y, then one shared layer sL on [xL; yL].
- DMF: s_l = f(W h^x_l + W h^y_l + W s_(l-1)) for every level l (Eq. 3).
A node's pre-activation is one Linear over the concatenation of its sources, which equals the
paper's sum of per-source weight matrices. The encoder-decoder variant adds the reversed graph
(every edge flipped) that reconstructs both inputs from the top shared layer.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from pickle import UnpicklingError

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from mfas_core.data.schema import read_attrs, read_split
from mfas_core.io import InputError, atomic_path, pick_device, set_seed, set_threads, write_json

MODELS = ("emf", "imf", "dmf")
VARIANTS = ("disc", "encdec")


def graph_spec(
    model: str, in_sizes: tuple[int, int], modality_sizes: list[int], shared_sizes: list[int]
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Nodes (name -> width, in topological order) and edges (source, target) of a model.

    modality_sizes are the hidden widths after each input (paper [512, 128] for [392, 512, 128]);
    shared_sizes has one width per level (paper [512, 256, 64]), so it must be one longer.
    """
    if model not in MODELS:
        raise ValueError(f"model: {model!r} is not one of {MODELS}")
    levels = len(modality_sizes) + 1
    if len(shared_sizes) != levels:
        raise ValueError(
            f"shared_sizes: needs {levels} widths (one per level, modality_sizes + 1), "
            f"got {len(shared_sizes)}"
        )
    nodes: dict[str, int] = {"x1": int(in_sizes[0]), "y1": int(in_sizes[1])}
    edges: list[tuple[str, str]] = []
    if model != "emf":  # modality pathways
        for m in ("x", "y"):
            for level, width in enumerate(modality_sizes, start=2):
                nodes[f"{m}{level}"] = int(width)
                edges.append((f"{m}{level - 1}", f"{m}{level}"))
    if model == "emf":
        nodes["s1"] = int(shared_sizes[0])
        edges += [("x1", "s1"), ("y1", "s1")]
        for level in range(2, levels + 1):
            nodes[f"s{level}"] = int(shared_sizes[level - 1])
            edges.append((f"s{level - 1}", f"s{level}"))
    elif model == "imf":
        nodes[f"s{levels}"] = int(shared_sizes[-1])
        edges += [(f"x{levels}", f"s{levels}"), (f"y{levels}", f"s{levels}")]
    else:
        for level in range(1, levels + 1):
            nodes[f"s{level}"] = int(shared_sizes[level - 1])
            edges += [(f"x{level}", f"s{level}"), (f"y{level}", f"s{level}")]
            if level > 1:
                edges.append((f"s{level - 1}", f"s{level}"))
    return nodes, edges


class FusionNet(nn.Module):
    """EMF / IMF / DMF encoder with an optional classifier and an optional mirrored decoder."""

    def __init__(
        self,
        model: str,
        in_sizes: tuple[int, int],
        modality_sizes: list[int],
        shared_sizes: list[int],
        n_classes: int | None = None,
        decoder: bool = False,
    ):
        super().__init__()
        self.hparams = {
            "model": model,
            "in_sizes": [int(s) for s in in_sizes],
            "modality_sizes": [int(s) for s in modality_sizes],
            "shared_sizes": [int(s) for s in shared_sizes],
            "n_classes": n_classes,
            "decoder": decoder,
        }
        self.nodes, self.edges = graph_spec(model, in_sizes, modality_sizes, shared_sizes)
        self.top = f"s{len(shared_sizes)}"
        self.sources = {n: [s for s, t in self.edges if t == n] for n in self.nodes}
        self.enc = nn.ModuleDict(
            {
                n: nn.Linear(sum(self.nodes[s] for s in src), self.nodes[n])
                for n, src in self.sources.items()
                if src
            }
        )
        self.classifier = nn.Linear(self.nodes[self.top], n_classes) if n_classes else None
        self.dec = None
        if decoder:  # reversed graph: a node's sources are its encoder targets
            self.targets = {n: [t for s, t in self.edges if s == n] for n in self.nodes}
            self.dec = nn.ModuleDict(
                {
                    n: nn.Linear(sum(self.nodes[t] for t in tgt), self.nodes[n])
                    for n, tgt in self.targets.items()
                    if tgt
                }
            )

    def encode_all(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Activations of every node (inputs included), in topological order."""
        act = {"x1": x, "y1": y}
        for n, layer in self.enc.items():
            act[n] = torch.sigmoid(layer(torch.cat([act[s] for s in self.sources[n]], dim=1)))
        return act

    def encode(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The joint representation: the top shared layer."""
        return self.encode_all(x, y)[self.top]

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Class logits from the top shared layer (discriminative variant)."""
        if self.classifier is None:
            raise RuntimeError("this FusionNet has no classifier (n_classes=None)")
        return self.classifier(self.encode(x, y))

    def decode(self, joint: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Reconstruct both inputs (in [0, 1]) from the joint representation via the reversed graph."""
        if self.dec is None:
            raise RuntimeError("this FusionNet has no decoder (decoder=False)")
        act = {self.top: joint}
        for n in reversed(list(self.nodes)):
            if n == self.top:
                continue
            act[n] = torch.sigmoid(self.dec[n](torch.cat([act[t] for t in self.targets[n]], dim=1)))
        return act["x1"], act["y1"]


def count_parameters(module: nn.Module, part: str = "enc") -> int:
    """Trainable parameters of the encoder (`enc`, the fusion network the paper compares) or all."""
    if part == "all":
        return sum(p.numel() for p in module.parameters())
    return sum(p.numel() for p in getattr(module, part).parameters())


# --- data -------------------------------------------------------------------------------------


def fit_scaler(arrays: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per modality (offset, scale) mapping the training data into [0, 1].

    A modality already in [0, 1] (MNIST halves) passes unchanged; any other is min-max scaled
    per feature (constant features get scale 1).
    """
    out = []
    for a in arrays:
        if a.size and a.min() >= 0.0 and a.max() <= 1.0:
            out.append((np.zeros(a.shape[1], np.float32), np.ones(a.shape[1], np.float32)))
            continue
        low, high = a.min(axis=0), a.max(axis=0)
        out.append(
            (low.astype(np.float32), np.where(high > low, high - low, 1.0).astype(np.float32))
        )
    return out


def apply_scaler(arrays: list[np.ndarray], scaler) -> list[np.ndarray]:
    """Scale with `fit_scaler`'s output and clip to [0, 1] (other splits may leave the range)."""
    return [
        np.clip((a - np.asarray(o)) / np.asarray(s), 0.0, 1.0).astype(np.float32)
        for a, (o, s) in zip(arrays, scaler, strict=True)
    ]


def load_pairs(
    path: str | Path, max_train: int = 0, seed: int = 0, scaler=None
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], dict]:
    """Read a dataset file as split -> (modality 1 [N, d1], modality 2 [N, d2], labels).

    Inputs are flattened and scaled into [0, 1] (`fit_scaler` on the training split unless a
    saved `scaler` is given): sigmoid units, the [0, 1] reconstruction targets and the RBM
    initialisation all expect that range. `max_train` > 0 keeps a seeded random subset of the
    training split. Returns the arrays and info: modalities, classes, scaler.
    """
    attrs = read_attrs(path)
    if attrs.get("task") != "single":
        raise InputError(path, "attrs/task", f"{attrs.get('task')!r}: DMF needs single-label data")
    mods = list(attrs["modalities"])
    n_classes = len(attrs["classes"])
    splits = {}
    for split in ("train", "val", "test"):
        data, labels = read_split(path, split)
        if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
            raise InputError(path, f"{split}/labels", f"labels outside 0..{n_classes - 1}")
        splits[split] = ([data[m].reshape(len(labels), -1) for m in mods], labels.astype(np.int64))
    n_train = len(splits["train"][1])
    if n_train == 0:
        raise InputError(path, "train/labels", "the training split is empty")
    if max_train and max_train < n_train:
        keep = np.sort(np.random.RandomState(seed).permutation(n_train)[:max_train])
        splits["train"] = ([a[keep] for a in splits["train"][0]], splits["train"][1][keep])
    if scaler is None:
        scaler = fit_scaler(splits["train"][0])
    out = {}
    for split, (arrays, labels) in splits.items():
        a, b = apply_scaler(arrays, scaler)
        out[split] = (a, b, labels)
    info = {"modalities": mods, "classes": list(attrs["classes"]), "scaler": scaler}
    return out, info


# --- RBM initialisation -----------------------------------------------------------------------


@torch.no_grad()
def pretrain_rbm(
    net: FusionNet,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    seed: int,
    batch_size: int = 128,
    lr: float = 0.05,
) -> None:
    """Initialise every encoder layer layer-wise with contrastive divergence (paper §3.2).

    In topological order, each node's layer is the hidden part of a scikit-learn BernoulliRBM
    trained on the (already initialised) activations of its sources; the decoder, if any, starts
    from the transposed weights. Inputs must be in [0, 1].
    """
    from sklearn.neural_network import BernoulliRBM

    act = {"x1": torch.from_numpy(x), "y1": torch.from_numpy(y)}
    for i, (n, layer) in enumerate(tqdm(net.enc.items(), desc="rbm", leave=False)):
        src = torch.cat([act[s] for s in net.sources[n]], dim=1)
        rbm = BernoulliRBM(
            n_components=net.nodes[n],
            learning_rate=lr,
            batch_size=batch_size,
            n_iter=epochs,
            random_state=seed + i,
        )
        rbm.fit(src.numpy())
        w = torch.as_tensor(rbm.components_, dtype=torch.float32)
        layer.weight.copy_(w.to(layer.weight.device))
        layer.bias.copy_(torch.as_tensor(rbm.intercept_hidden_, dtype=torch.float32))
        act[n] = torch.sigmoid(src @ w.T + layer.bias.cpu())
        if net.dec is not None:  # decoder pieces that read this node reconstruct its sources
            offset = 0
            for s in net.sources[n]:
                width = net.nodes[s]
                part = w[:, offset : offset + width].T  # [width_s, width_n]
                pos = 0
                for t in net.targets[s]:
                    if t == n:
                        net.dec[s].weight[:, pos : pos + net.nodes[n]].copy_(part)
                    pos += net.nodes[t]
                offset += width


# --- training ---------------------------------------------------------------------------------


def _batches(n: int, batch_size: int, gen: torch.Generator):
    order = torch.randperm(n, generator=gen)
    for i in range(0, n, batch_size):
        yield order[i : i + batch_size]


@torch.no_grad()
def _batched(fn, x: np.ndarray, y: np.ndarray, device, batch_size: int) -> list[np.ndarray]:
    """fn(x_batch, y_batch) over every pair, in batches, as NumPy arrays."""
    out = []
    for i in range(0, len(x), batch_size):
        xb = torch.from_numpy(x[i : i + batch_size]).to(device)
        yb = torch.from_numpy(y[i : i + batch_size]).to(device)
        out.append(fn(xb, yb).cpu().numpy())
    return out


def predict(
    net: FusionNet, x: np.ndarray, y: np.ndarray, device, batch_size: int = 2048
) -> np.ndarray:
    """Predicted class of every pair."""
    net.eval()
    out = _batched(lambda a, b: net(a, b).argmax(1), x, y, device, batch_size)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def encode(
    net: FusionNet, x: np.ndarray, y: np.ndarray, device, batch_size: int = 2048
) -> np.ndarray:
    """Joint representations (top shared layer) of every pair, float32 [N, d]."""
    net.eval()
    out = _batched(net.encode, x, y, device, batch_size)
    return np.concatenate(out) if out else np.zeros((0, net.nodes[net.top]), np.float32)


def input_conditions(x: np.ndarray, y: np.ndarray, modalities: list[str]) -> dict:
    """The paper's input conditions: both modalities, and each alone with the other zeroed."""
    return {
        "both": (x, y),
        f"only_{modalities[0]}": (x, np.zeros_like(y)),
        f"only_{modalities[1]}": (np.zeros_like(x), y),
    }


def error_rates(net: FusionNet, x, y, labels, modalities, device) -> dict[str, float]:
    """Test error (%) under each input condition."""
    return {
        cond: float(100.0 * np.mean(predict(net, a, b, device) != labels))
        for cond, (a, b) in input_conditions(x, y, modalities).items()
    }


def _drop_modality(xb, yb, p: float, gen: torch.Generator):
    """Zero one modality (chosen evenly) of a random fraction `p` of the pairs."""
    if p <= 0:
        return xb, yb
    n = xb.shape[0]
    drop = torch.rand(n, generator=gen) < p
    which = torch.rand(n, generator=gen) < 0.5
    keep_x = (~(drop & which)).float().unsqueeze(1).to(xb.device)
    keep_y = (~(drop & ~which)).float().unsqueeze(1).to(xb.device)
    return xb * keep_x, yb * keep_y


def fit(
    net: FusionNet,
    data: dict,
    modalities: list[str],
    *,
    variant: str,
    seed: int,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    modality_dropout: float,
    device,
) -> list[dict]:
    """Train `net` with Adam; return the per-epoch history (paper Fig. 4 curves).

    disc: cross-entropy on both modalities; every epoch records the mean training loss and the
    test accuracy with both modalities. encdec: no labels; reconstruct both inputs (binary
    cross-entropy, mean per modality) from inputs where one modality is zeroed with probability
    `modality_dropout`.
    """
    x, y, labels = (torch.from_numpy(a) for a in data["train"])
    tx, ty, tlab = data["test"]
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    history = []
    for epoch in tqdm(range(1, epochs + 1), desc=f"{net.hparams['model']} {variant}"):
        net.train()
        total, count = 0.0, 0
        for idx in _batches(len(x), batch_size, gen):
            xb, yb = x[idx].to(device), y[idx].to(device)
            if variant == "disc":
                loss = F.cross_entropy(net(xb, yb), labels[idx].to(device))
            else:
                ix, iy = _drop_modality(xb, yb, modality_dropout, gen)
                rx, ry = net.decode(net.encode(ix, iy))
                loss = F.binary_cross_entropy(rx, xb) + F.binary_cross_entropy(ry, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            count += len(idx)
        row = {"epoch": epoch, "train_loss": total / max(count, 1)}
        if variant == "disc":
            row["test_acc"] = float(np.mean(predict(net, tx, ty, device) == tlab))
        history.append(row)
        tqdm.write(f"epoch {epoch}: {row}", file=sys.stderr)
    return history


def build_net(
    model: str, variant: str, in_sizes, n_classes: int, modality_sizes, shared_sizes
) -> FusionNet:
    """The network of one (model, variant): a classifier for disc, a decoder for encdec."""
    if variant not in VARIANTS:
        raise ValueError(f"variant: {variant!r} is not one of {VARIANTS}")
    return FusionNet(
        model,
        in_sizes,
        modality_sizes,
        shared_sizes,
        n_classes=n_classes if variant == "disc" else None,
        decoder=variant == "encdec",
    )


def train_dmf(
    data_path: str | Path,
    model_path: str | Path,
    metrics_path: str | Path,
    *,
    dataset: str,
    variant: str,
    model: str,
    seed: int,
    modality_sizes: list[int],
    shared_sizes: list[int],
    epochs: int,
    batch_size: int,
    lr: float,
    min_steps: int = 0,
    weight_decay: float = 0.0,
    max_train: int = 0,
    rbm_pretrain: bool = False,
    rbm_epochs: int = 5,
    modality_dropout: float = 0.0,
    damage: float | None = None,
    device: str = "auto",
    threads: int | None = None,
) -> dict:
    """Train one EMF/IMF/DMF network (rule dmf_train); write its checkpoint and metrics.

    metrics.json: dataset, damage, variant, model, seed, parameter counts, seconds, history,
    and for disc the test error (%) with both modalities and with each alone (paper Table 1).
    The checkpoint holds the constructor arguments, weights and input scaler (see `load_net`).
    Small training sets get more epochs: at least `min_steps` optimiser steps in all.
    """
    set_threads(threads)
    set_seed(seed)
    dev = pick_device(device)
    data, info = load_pairs(data_path, max_train=max_train, seed=seed)
    mods = info["modalities"]
    in_sizes = (data["train"][0].shape[1], data["train"][1].shape[1])
    net = build_net(model, variant, in_sizes, len(info["classes"]), modality_sizes, shared_sizes)
    steps_per_epoch = math.ceil(len(data["train"][2]) / batch_size)
    epochs = max(int(epochs), math.ceil(min_steps / steps_per_epoch))
    start = time.time()
    if rbm_pretrain:
        pretrain_rbm(net, data["train"][0], data["train"][1], rbm_epochs, seed, batch_size)
    net.to(dev)
    history = fit(
        net,
        data,
        mods,
        variant=variant,
        seed=seed,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        modality_dropout=modality_dropout,
        device=dev,
    )
    metrics = {
        "dataset": dataset,
        "damage": damage,
        "variant": variant,
        "model": model,
        "seed": seed,
        "modalities": mods,
        "n_train": int(len(data["train"][2])),
        "n_test": int(len(data["test"][2])),
        "n_params": count_parameters(net),
        "n_params_all": count_parameters(net, "all"),
        "rbm_pretrain": bool(rbm_pretrain),
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "weight_decay": weight_decay,
        "modality_dropout": modality_dropout if variant == "encdec" else 0.0,
        "modality_sizes": list(modality_sizes),
        "shared_sizes": list(shared_sizes),
        "seconds": round(time.time() - start, 2),
        "device": str(dev),
        "history": history,
    }
    if variant == "disc":
        tx, ty, tlab = data["test"]
        metrics["test_error"] = error_rates(net, tx, ty, tlab, mods, dev)
    with atomic_path(model_path) as tmp:
        scaler = [[torch.from_numpy(np.asarray(v)) for v in pair] for pair in info["scaler"]]
        torch.save(
            {
                "hparams": net.hparams,
                "state_dict": net.cpu().state_dict(),
                "scaler": scaler,
                "modalities": mods,
            },
            tmp,
        )
    write_json(metrics_path, metrics)
    return metrics


def load_net(path: str | Path) -> tuple[FusionNet, dict]:
    """Rebuild a network saved by `train_dmf`; also return its scaler and modality names."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        net = FusionNet(**ckpt["hparams"])
        net.load_state_dict(ckpt["state_dict"])
        scaler = [tuple(v.numpy() for v in pair) for pair in ckpt["scaler"]]
    except (
        OSError,
        RuntimeError,
        KeyError,
        TypeError,
        ValueError,
        EOFError,
        UnpicklingError,
    ) as exc:
        raise InputError(
            path, "checkpoint", f"not a DMF checkpoint ({exc.__class__.__name__})"
        ) from None
    return net.eval(), {"scaler": scaler, "modalities": list(ckpt["modalities"])}
