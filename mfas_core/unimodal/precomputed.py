"""Precomputed modalities: per-layer features already in the dataset file, no backbone.

Layout in the dataset file (docs/your-encoders.md): a group per split and modality,
  /<split>/<modality>/tap<i>   floating [N, C_i], i = 1..M (shallow to deep)
or the names in the backbone spec's `taps`. rule copy_features writes the feature cache
(mfas_core.unimodal.features layout, without logits: there is no head) from them, checked:
every tap a 2-D floating array with a row per label, the same widths in every split, finite.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import h5py
import numpy as np

from mfas_core.errors import InputError

ROWS = 4096  # rows copied at a time: memory is bounded by one block, not the dataset


def tap_names(group: h5py.Group, spec: dict) -> list[str]:
    """The configured `taps`, or every `tap<i>` member in numeric order."""
    if spec.get("taps"):
        return list(spec["taps"])
    found = [k for k in group if re.fullmatch(r"tap\d+", k)]
    return sorted(found, key=lambda k: int(k[3:]))


def copy_features(
    data: str | Path, out: str | Path, *, dataset: str, modality: str, spec: dict
) -> list[int]:
    """Validate a precomputed modality and write its feature cache; returns the tap widths."""
    from mfas_core.atomic import atomic_path, sha256_file
    from mfas_core.data.schema import SPLITS, read_attrs

    attrs = read_attrs(data)
    task, n_classes = str(attrs["task"]), len(attrs["classes"])
    with h5py.File(data, "r") as src:
        names, widths = None, None
        for split in SPLITS:
            field = f"/{split}/{modality}"
            if split not in src or modality not in src[split]:
                raise InputError(data, field, "missing in the dataset file")
            g = src[split][modality]
            if not isinstance(g, h5py.Group):
                raise InputError(
                    data, field, "is an array, not a group of tap<i> features (type: precomputed)"
                )
            names = names or tap_names(g, spec)
            if not names:
                raise InputError(data, field, "holds no tap<i> datasets")
            n = src[split]["labels"].shape[0]
            split_widths = []
            for name in names:
                if name not in g:
                    raise InputError(data, f"{field}/{name}", "missing tap")
                ds = g[name]
                if ds.ndim != 2 or not np.issubdtype(ds.dtype, np.floating):
                    raise InputError(
                        data,
                        f"{field}/{name}",
                        f"must be floating [N, C], got {ds.dtype} {ds.shape}",
                    )
                if ds.shape[0] != n:
                    raise InputError(data, f"{field}/{name}", f"{ds.shape[0]} rows, labels {n}")
                for i in range(0, n, ROWS):
                    if not np.isfinite(ds[i : i + ROWS]).all():
                        raise InputError(data, f"{field}/{name}", "contains NaN or inf")
                split_widths.append(int(ds.shape[1]))
            if widths is not None and split_widths != widths:
                raise InputError(
                    data, field, f"tap widths {split_widths} differ from train's {widths}"
                )
            widths = split_widths
        with atomic_path(out) as tmp, h5py.File(tmp, "w") as dst:
            dst.attrs.update(
                dataset=dataset,
                modality=modality,
                task=task,
                n_classes=n_classes,
                layer_names=json.dumps([f"{modality}.{name}" for name in names]),
                layer_sizes=json.dumps(widths),
                backbone_sha256="",  # no backbone: the features are the data
                data_sha256=sha256_file(data),
            )
            for split in SPLITS:
                g, y = src[split][modality], src[split]["labels"][()]
                n = len(y)
                o = dst.create_group(split)
                for k, (name, d) in enumerate(zip(names, widths, strict=True), 1):
                    ds = o.create_dataset(
                        f"layer_{k}", (n, d), dtype="f4", chunks=(min(n, ROWS), d)
                    )
                    for i in range(0, n, ROWS):
                        ds[i : i + ROWS] = g[name][i : i + ROWS].astype(np.float32)
                o.create_dataset("labels", data=y)
    return widths
