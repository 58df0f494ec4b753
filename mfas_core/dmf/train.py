"""Training one EMF/IMF/DMF network (rule dmf_train): fit, predict, encode, error rates."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F
from tqdm import tqdm

from mfas_core.dmf.nets import FusionNet, build_net, count_parameters
from mfas_core.dmf.pairs import load_pairs
from mfas_core.dmf.pretrain import pretrain_rbm
from mfas_core.io import atomic_path, pick_device, set_seed, set_threads, write_json


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
