"""The dataset HDF5 layout every loader writes and every stage reads.

Layout of results/data/<dataset>.h5:
  /<split>/<modality>   float32 or float16, [N, *shape]   split in train, val, test
  /<split>/<modality>/tap<i>   float [N, C_i]: a precomputed modality (per-layer features;
                        its attrs/shapes entry is {tap<i>: [C_i]})
  /<split>/labels       int64 [N] (task single) or uint8 [N, C] multi-hot (task multi)
  attrs: schema_version, name, kind, task, modalities (JSON list of 2 to 8, modality 1 first),
         classes (JSON list), shapes (JSON {modality: shape}), sources (JSON {file: sha256}),
         params (JSON: the preparation parameters)
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from mfas_core.atomic import atomic_path
from mfas_core.errors import InputError

SPLITS = ("train", "val", "test")
SCHEMA_VERSION = 1
MIN_MODALITIES, MAX_MODALITIES = 2, 8


def write_dataset(
    path: str | Path,
    splits: dict[str, dict[str, np.ndarray]],
    labels: dict[str, np.ndarray],
    *,
    name: str,
    kind: str,
    classes: list[str],
    sources: dict[str, str],
    params: dict,
    storage_dtype: dict[str, str] | None = None,
) -> None:
    """Validate arrays, then write them atomically in the layout above.

    splits: split -> modality -> array [N, *shape]; labels: split -> [N] or [N, C].
    storage_dtype: optional modality -> "float16" to halve the size of large modalities.
    """
    storage_dtype = storage_dtype or {}
    modalities = list(splits["train"].keys())
    task = "multi" if labels["train"].ndim == 2 else "single"
    shapes = {m: _shape(splits["train"][m]) for m in modalities}
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs.update(
                schema_version=SCHEMA_VERSION,
                name=name,
                kind=kind,
                task=task,
                modalities=json.dumps(modalities),
                classes=json.dumps(list(classes)),
                shapes=json.dumps(shapes),
                sources=json.dumps(sources, sort_keys=True),
                params=json.dumps(params, sort_keys=True),
            )
            for split in SPLITS:
                g = f.create_group(split)
                for m in modalities:
                    if isinstance(splits[split][m], dict):  # precomputed taps: a group
                        sub = g.create_group(m)
                        for tap, arr in splits[split][m].items():
                            sub.create_dataset(tap, data=np.asarray(arr, dtype=np.float32))
                        continue
                    arr = np.asarray(splits[split][m])
                    dt = storage_dtype.get(m, "float32")
                    chunk = (min(len(arr), max(1, 2**20 // max(1, arr[0].nbytes))),) + arr.shape[1:]
                    g.create_dataset(
                        m, data=arr.astype(dt, copy=False), chunks=chunk if len(arr) else None
                    )
                y = np.asarray(labels[split])
                g.create_dataset("labels", data=y.astype(np.uint8 if task == "multi" else np.int64))
        validate_dataset(tmp, display_path=path)


def _shape(arr) -> list | dict:
    """attrs/shapes entry of a modality: [*shape], or {tap: [C]} for precomputed taps."""
    if isinstance(arr, dict):
        return {k: list(np.shape(v)[1:]) for k, v in arr.items()}
    return list(arr.shape[1:])


def _read(node) -> np.ndarray | dict:
    """A modality as float32: an array, or {tap: array} for a precomputed group."""
    if isinstance(node, h5py.Group):
        return {k: node[k][()].astype(np.float32) for k in node}
    return node[()].astype(np.float32)


def read_attrs(path: str | Path) -> dict:
    """File attributes with the JSON ones decoded."""
    with h5py.File(path, "r") as f:
        out = dict(f.attrs)
    for k in ("modalities", "classes", "shapes", "sources", "params"):
        if k in out:
            out[k] = json.loads(out[k])
    return out


def read_split(path: str | Path, split: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """All modalities of one split as float32 arrays, and its labels."""
    with h5py.File(path, "r") as f:
        mods = json.loads(f.attrs["modalities"])
        data = {m: _read(f[split][m]) for m in mods}
        labels = f[split]["labels"][()]
    return data, labels


def validate_dataset(path: str | Path, display_path: str | Path | None = None) -> dict:
    """Check a dataset file against the layout; raise InputError naming the file and field.

    Checks: required attributes, all splits and modalities present, shapes match `shapes`,
    sample counts agree within a split, values finite, labels in range. Returns the attrs.
    """
    shown = display_path or path
    try:
        f = h5py.File(path, "r")
    except (OSError, FileNotFoundError) as exc:
        raise InputError(shown, "file", f"cannot open as HDF5 ({exc.__class__.__name__})") from None
    with f:
        for key in ("modalities", "classes", "shapes", "task"):
            if key not in f.attrs:
                raise InputError(shown, f"attrs/{key}", "missing attribute")
        try:
            mods = json.loads(f.attrs["modalities"])
            classes = json.loads(f.attrs["classes"])
            shapes = json.loads(f.attrs["shapes"])
        except (TypeError, json.JSONDecodeError):
            raise InputError(shown, "attrs", "modalities/classes/shapes are not JSON") from None
        task = f.attrs["task"]
        if task not in ("single", "multi"):
            raise InputError(shown, "attrs/task", f"{task!r} is not 'single' or 'multi'")
        if not MIN_MODALITIES <= len(mods) <= MAX_MODALITIES or len(set(mods)) != len(mods):
            raise InputError(
                shown,
                "attrs/modalities",
                f"needs {MIN_MODALITIES} to {MAX_MODALITIES} distinct modalities, got {mods}",
            )
        for m in mods:
            if m not in shapes:
                raise InputError(shown, f"attrs/shapes/{m}", "missing shape of a modality")
        for split in SPLITS:
            if split not in f:
                raise InputError(shown, f"/{split}", "missing split")
            if "labels" not in f[split]:
                raise InputError(shown, f"/{split}/labels", "missing")
            y = f[split]["labels"][()]
            n = len(y)
            if n == 0:
                raise InputError(shown, f"/{split}/labels", "split is empty")
            if task == "single":
                if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
                    raise InputError(
                        shown, f"/{split}/labels", f"must be integer [N], got {y.dtype} {y.shape}"
                    )
                if y.min() < 0 or y.max() >= len(classes):
                    raise InputError(
                        shown, f"/{split}/labels", f"values outside 0..{len(classes) - 1}"
                    )
            else:
                if y.ndim != 2 or y.shape[1] != len(classes):
                    raise InputError(
                        shown,
                        f"/{split}/labels",
                        f"must be [N, {len(classes)}] multi-hot, got {y.shape}",
                    )
                if not np.isin(y, (0, 1)).all():
                    raise InputError(shown, f"/{split}/labels", "multi-hot values must be 0 or 1")
            for m in mods:
                field = f"/{split}/{m}"
                if m not in f[split]:
                    raise InputError(shown, field, "missing modality")
                if isinstance(f[split][m], h5py.Group):
                    _validate_taps(shown, field, f[split][m], shapes[m], n)
                    continue
                ds = f[split][m]
                if list(ds.shape[1:]) != list(shapes[m]):
                    raise InputError(
                        shown,
                        field,
                        f"shape {list(ds.shape[1:])} differs from attrs/shapes {shapes[m]}",
                    )
                if ds.shape[0] != n:
                    raise InputError(shown, field, f"{ds.shape[0]} samples but labels have {n}")
                if not np.issubdtype(ds.dtype, np.floating):
                    raise InputError(shown, field, f"dtype {ds.dtype} is not floating point")
                step = max(1, 2**22 // max(1, int(np.prod(ds.shape[1:])) * 4))
                for i in range(0, ds.shape[0], step):
                    if not np.isfinite(ds[i : i + step]).all():
                        raise InputError(shown, field, "contains NaN or inf values")
        return read_attrs(path)


def _validate_taps(shown, field: str, group: h5py.Group, shapes, n: int) -> None:
    """A precomputed modality: [N, C] floating, finite taps matching attrs/shapes {tap: [C]}."""
    if not isinstance(shapes, dict) or sorted(shapes) != sorted(group):
        raise InputError(shown, field, f"taps {sorted(group)} differ from attrs/shapes {shapes}")
    for tap in group:
        ds = group[tap]
        if ds.ndim != 2 or list(ds.shape[1:]) != list(shapes[tap]) or ds.shape[0] != n:
            raise InputError(
                shown, f"{field}/{tap}", f"shape {list(ds.shape)}, expected [{n}, *{shapes[tap]}]"
            )
        if not np.issubdtype(ds.dtype, np.floating):
            raise InputError(shown, f"{field}/{tap}", f"dtype {ds.dtype} is not floating point")
        if not np.isfinite(ds[()]).all():
            raise InputError(shown, f"{field}/{tap}", "contains NaN or inf values")
