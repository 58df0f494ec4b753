"""Training one EMF/IMF/DMF network (rule train_dmf): fit, predict, encode, error rates."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from mfas_core import training
from mfas_core.atomic import atomic_path, save_torch, write_json
from mfas_core.dmf.cd import pretrain_cd
from mfas_core.dmf.nets import FusionNet, build_net, count_parameters, pathway_sizes
from mfas_core.dmf.pairs import load_pairs
from mfas_core.dmf.settings import DMFSettings
from mfas_core.errors import InputError
from mfas_core.runtime import pick_device, set_seed, set_threads


def _batches(n: int, batch_size: int, gen: torch.Generator):
    order = torch.randperm(n, generator=gen)
    for i in range(0, n, batch_size):
        yield order[i : i + batch_size]


def predict(net: FusionNet, inputs, device, batch_size: int = 2048) -> np.ndarray:
    """Predicted class of every pair (`inputs`: one array per modality)."""
    if len(inputs[0]) == 0:
        return np.zeros(0, dtype=np.int64)
    return training.predict(net, tuple(inputs), device, batch_size).argmax(1)


def encode(net: FusionNet, inputs, device, batch_size: int = 2048) -> np.ndarray:
    """Joint representations (top shared layer) of every pair, float32 [N, d]."""
    empty = np.zeros((0, net.nodes[net.top]), np.float32)
    return training.predict(
        net, tuple(inputs), device, batch_size, fn=lambda m, *a: m.encode(*a), empty=empty
    )


def input_conditions(inputs, modalities: list[str]) -> dict:
    """The paper's input conditions: every modality (key `both`, the paper's two-modality
    name), and each alone with every other zeroed (`only_<modality>`)."""
    out = {"both": tuple(inputs)}
    for i, m in enumerate(modalities):
        out[f"only_{m}"] = tuple(a if j == i else np.zeros_like(a) for j, a in enumerate(inputs))
    return out


def error_rates(net: FusionNet, inputs, labels, modalities, device) -> dict[str, float]:
    """Test error (%) under each input condition."""
    return {
        cond: float(100.0 * np.mean(predict(net, arrays, device) != labels))
        for cond, arrays in input_conditions(inputs, modalities).items()
    }


def _drop_modality(batch, p: float, gen: torch.Generator):
    """Zero one modality (chosen evenly) of a random fraction `p` of the pairs."""
    if p <= 0:
        return list(batch)
    n, k = batch[0].shape[0], len(batch)
    drop = torch.rand(n, generator=gen) < p
    # floor(u * k) is the chosen modality; for k = 2 it is (u >= 0.5), exactly as before
    which = (torch.rand(n, generator=gen) * k).long()
    return [
        a * (~(drop & (which == i))).float().unsqueeze(1).to(a.device) for i, a in enumerate(batch)
    ]


def _val_subset(data: dict, n: int, seed: int, split: str = "val"):
    """A seeded subset (at most n pairs) of a split (validation), or None if it is empty."""
    *inputs, labels = data[split]
    if len(labels) == 0:
        return None
    keep = np.sort(np.random.RandomState(seed).permutation(len(labels))[: max(1, n)])
    return [a[keep] for a in inputs], labels[keep]


def _reconstruction(recon, targets, reduction: str = "mean"):
    """BCE of every modality's reconstruction, summed over modalities (mean per modality)."""
    loss = None
    for r, t in zip(recon, targets, strict=True):
        term = F.binary_cross_entropy(r, t, reduction=reduction)
        if reduction == "sum":
            term = term / t.shape[1]
        loss = term if loss is None else loss + term
    return loss


@torch.no_grad()
def reconstruction_loss(net: FusionNet, inputs, modalities, device, batch_size: int = 2048):
    """Mean reconstruction loss (BCE, summed over every modality) over the input conditions
    (all, each alone): the encoder-decoder's label-free validation score."""
    net.eval()
    total = []
    n = len(inputs[0])
    for arrays in input_conditions(inputs, modalities).values():
        losses = []
        for i in range(0, n, batch_size):
            fed = [torch.from_numpy(a[i : i + batch_size]).to(device) for a in arrays]
            targets = [torch.from_numpy(a[i : i + batch_size]).to(device) for a in inputs]
            loss = _reconstruction(net.decode(net.encode(*fed)), targets, "sum")
            losses.append(float(loss))
        total.append(sum(losses) / max(n, 1))
    return float(np.mean(total))


def fit(
    net: FusionNet,
    data: dict,
    modalities: list[str],
    settings: DMFSettings,
    *,
    variant: str,
    seed: int,
    max_epochs: int,
    lr: float,
    device,
) -> tuple[list[dict], int]:
    """Train `net` with Adam until validation stops improving; keep the best-validation weights.

    disc: cross-entropy on every modality; validation score = accuracy with every modality.
    encdec: no labels; reconstruct every input (binary cross-entropy, mean per modality) from
    inputs where one modality is zeroed with probability `modality_dropout`; validation score
    = `reconstruction_loss` (lower is better). Training stops after `patience` epochs without
    a better validation score or at `max_epochs`; the weights of the best epoch are restored.
    Every epoch records the training loss, the validation score and, for disc, the accuracy
    on a seeded subset of `val_max` test pairs (for the curves plot only: test numbers never
    choose). Returns (history, best).
    """
    *inputs, labels = (torch.from_numpy(a) for a in data["train"])
    val = _val_subset(data, settings.val_max, seed)
    # the curves' test accuracy, on as many test pairs as validation has (the whole test split
    # costs a third of a training epoch; the reported test error is on all of it, after fit)
    curve = _val_subset(data, settings.val_max, seed, split="test")
    gen = torch.Generator().manual_seed(seed)
    # fused: one Adam kernel for every parameter, as in final training (a quarter of a step of
    # the MNIST-halves encoder-decoder went to torch's per-tensor Adam; docs/performance.md)
    fused = torch.device(device).type in ("cpu", "cuda")
    opt, _ = training.adam(net, lr, settings.weight_decay, fused=fused)

    def batch_loss(idx: torch.Tensor) -> torch.Tensor:
        batch = [a[idx].to(device) for a in inputs]
        if variant == "disc":
            return F.cross_entropy(net(*batch), labels[idx].to(device))
        fed = _drop_modality(batch, settings.modality_dropout, gen)
        return _reconstruction(net.decode(net.encode(*fed)), batch)

    def accuracy(split) -> float:
        return float(np.mean(predict(net, split[0], device) == split[1]))

    def validate(epoch: int) -> training.Validation:
        row = {}
        if val is None:  # no validation split: the last epoch is kept
            score = float(epoch)
        elif variant == "disc":
            row["val_acc"] = score = accuracy(val)
        else:
            row["val_loss"] = reconstruction_loss(net, val[0], modalities, device)
            score = -row["val_loss"]
        if variant == "disc" and curve is not None:
            row["test_acc"] = accuracy(curve)
        return training.Validation(score, row)

    res = training.train_epochs(
        net, epochs=max_epochs, batches=lambda _: _batches(len(labels), settings.batch_size, gen),
        batch_loss=batch_loss, validate=validate, optimizer=opt, patience=settings.patience,
        log=sys.stderr, desc=f"{net.hparams['model']} {variant}",
    )  # fmt: skip
    return res.history, res.best_epoch


def train_dmf(
    data_path: str | Path,
    model_path: str | Path,
    metrics_path: str | Path,
    *,
    dataset: str,
    variant: str,
    model: str,
    seed: int,
    damage: float | None = None,
    threads: int | None = None,
    **params,
) -> dict:
    """Train one EMF/IMF/DMF network (rule train_dmf); write its checkpoint and metrics.

    `params` are the variant's settings (`mfas_core.dmf.settings.train_params`) and threads.
    metrics.json: dataset, damage, variant, model, seed, parameter counts, training pairs used
    (`n_train`) of those available (`n_train_available`, before the `max_train` cap), seconds,
    history, the best-validation epoch whose weights are saved and, for disc, the test error
    (%) at that checkpoint with every modality and with each alone (paper Table 1). Multi-label
    data trains the encoder-decoder only (no labels needed); disc on it is an InputError. The checkpoint holds
    the constructor arguments, weights and input scaler (see `load_net`). Small training sets
    get a higher epoch cap: at least `min_steps` optimiser steps are allowed.
    """
    settings = DMFSettings.from_params(**params, threads=threads)
    set_threads(settings.threads)
    set_seed(seed)
    dev = pick_device(settings.device)
    data, info = load_pairs(data_path, max_train=settings.max_train, seed=seed)
    mods = info["modalities"]
    if variant == "disc" and info["task"] != "single":
        raise InputError(
            data_path, "attrs/task", "multi-label data: DMF runs its encoder-decoder variant only"
        )
    in_sizes = tuple(a.shape[1] for a in data["train"][:-1])
    modality_sizes, shared_sizes = pathway_sizes(
        in_sizes, settings.modality_sizes, settings.shared_sizes
    )
    net = build_net(model, variant, in_sizes, len(info["classes"]), modality_sizes, shared_sizes)
    steps_per_epoch = math.ceil(len(data["train"][-1]) / settings.batch_size)
    max_epochs = max(int(settings.max_epochs), math.ceil(settings.min_steps / steps_per_epoch))
    start = time.time()
    cd_error = None
    if settings.cd is not None:
        cd_error = pretrain_cd(net, data["train"][:-1], settings.cd, seed)
    net.to(dev)
    history, best = fit(
        net, data, mods, settings, variant=variant, seed=seed, max_epochs=max_epochs,
        lr=settings.lr, device=dev,
    )  # fmt: skip
    metrics = {
        "dataset": dataset,
        "damage": damage,
        "variant": variant,
        "model": model,
        "seed": seed,
        "modalities": mods,
        "in_sizes": list(in_sizes),
        "n_train": int(len(data["train"][-1])),
        "n_train_available": info["n_available"],
        "max_train": settings.max_train,
        "n_val": int(len(data["val"][-1])),
        "n_test": int(len(data["test"][-1])),
        "n_params": count_parameters(net),
        "n_params_all": count_parameters(net, "all"),
        "cd_pretrain": settings.cd is not None,
        "cd_k": settings.cd.k if settings.cd is not None else None,
        "cd_epochs": settings.cd.epochs if settings.cd is not None else None,
        "cd_error": cd_error,
        "max_epochs": max_epochs,
        "epochs": len(history),
        "best_epoch": best,
        "patience": settings.patience,
        "batch_size": settings.batch_size,
        "lr": settings.lr,
        "weight_decay": settings.weight_decay,
        "modality_dropout": settings.modality_dropout,
        "modality_sizes": list(modality_sizes),
        "shared_sizes": list(shared_sizes),
        "seconds": round(time.time() - start, 2),
        "device": str(dev),
        "history": history,
    }
    if variant == "disc":
        *test, tlab = data["test"]
        metrics["test_error"] = error_rates(net, test, tlab, mods, dev)
    with atomic_path(model_path) as tmp:
        scaler = [[torch.from_numpy(np.asarray(v)) for v in pair] for pair in info["scaler"]]
        save_torch(
            {
                "hparams": net.hparams,
                "state_dict": net.cpu().state_dict(),
                "scaler": scaler,
                "modalities": mods,
                "n_train": metrics["n_train"],
                "n_train_available": metrics["n_train_available"],
            },
            tmp,
        )
    write_json(metrics_path, metrics)
    return metrics
