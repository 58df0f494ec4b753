"""Data for DMF: a dataset file read as (modality 1, ..., modality N, labels) per split, inputs
flattened and scaled into [0, 1] as sigmoid units and the reconstruction targets need. Labels
are class indices [N] (task single) or multi-hot [N, C] (task multi, e.g. MM-IMDB)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mfas_core.data.schema import read_attrs, read_split
from mfas_core.errors import InputError


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
) -> tuple[dict[str, tuple[np.ndarray, ...]], dict]:
    """Read a dataset file as split -> (modality 1 [N, d1], ..., modality M [N, dM], labels).

    Inputs are flattened and scaled into [0, 1] (`fit_scaler` on the training split unless a
    saved `scaler` is given): sigmoid units, the [0, 1] reconstruction targets and the RBM
    initialisation all expect that range. `max_train` > 0 keeps a seeded random subset of the
    training split. Labels: int64 class indices (task single) or int64 multi-hot [N, C] (task
    multi). Returns the arrays and info: modalities, classes, task, n_available (training pairs
    before the cap), scaler.
    """
    attrs = read_attrs(path)
    task = attrs.get("task")
    if task not in ("single", "multi"):
        raise InputError(path, "attrs/task", f"{task!r} is not 'single' or 'multi'")
    mods = list(attrs["modalities"])
    n_classes = len(attrs["classes"])
    splits = {}
    for split in ("train", "val", "test"):
        data, labels = read_split(path, split)
        if task == "single" and len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
            raise InputError(path, f"{split}/labels", f"labels outside 0..{n_classes - 1}")
        if task == "multi" and (labels.ndim != 2 or labels.shape[1] != n_classes):
            raise InputError(path, f"{split}/labels", f"must be [N, {n_classes}] multi-hot")
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
        out[split] = (*apply_scaler(arrays, scaler), labels)
    info = {
        "modalities": mods,
        "classes": list(attrs["classes"]),
        "task": task,
        "n_available": int(n_train),
        "scaler": scaler,
    }
    return out, info
