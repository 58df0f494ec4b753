"""Bring-your-own datasets: an HDF5 file of our schema, an original AV-MNIST `.npy` folder,
or MM-IMDB's `multimodal_imdb.hdf5`. Every check raises InputError naming file and field.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from mfas_core.data.avmnist import KIND as AVMNIST
from mfas_core.data.kinds import DatasetKind
from mfas_core.data.schema import SPLITS, read_split, validate_dataset
from mfas_core.errors import InputError

# MM-IMDB's 23 genres in the column order of the GMU release (Arevalo et al. 2017).
MMIMDB_GENRES = [
    "Drama", "Comedy", "Romance", "Thriller", "Crime", "Action", "Adventure", "Horror",
    "Documentary", "Mystery", "Sci-Fi", "Fantasy", "Family", "Biography", "War", "History",
    "Music", "Animation", "Musical", "Western", "Sport", "Short", "Film-Noir",
]  # fmt: skip
# The GMU release's train / dev / test index ranges (used when the file has no Fuel split).
MMIMDB_RANGES = {"train": (0, 15552), "val": (15552, 18160), "test": (18160, 25959)}
MMIMDB_KEYS = {"image": "vgg_features", "text": "features", "labels": "genres"}


def existing_source(path: str | Path, field: str = "path") -> Path:
    """The configured source path, or InputError if it does not exist."""
    p = Path(path)
    if not p.exists():
        raise InputError(p, field, "missing source (no such file or folder)")
    return p


def check_finite(path: Path, field: str, x: np.ndarray) -> None:
    if not np.isfinite(x).all():
        raise InputError(path, field, "contains NaN or inf values")


def load_hdf5(spec: dict, seed: int) -> dict:
    """A file already in our schema: validated, then re-written as-is (sources = that file)."""
    path = existing_source(spec["path"])
    attrs = validate_dataset(path)
    splits, labels = {}, {}
    for s in SPLITS:
        splits[s], labels[s] = read_split(path, s)
    return {
        "splits": splits,
        "labels": labels,
        "classes": attrs["classes"],
        "sources": [path],
        "params": {**spec, "seed": seed, "source_params": attrs.get("params", {})},
    }


def _load_npy(path: Path, field: str) -> np.ndarray:
    f = path / field
    if not f.is_file():
        raise InputError(f, field, "missing file")
    try:
        return np.load(f, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(f, field, f"unreadable .npy ({exc.__class__.__name__})") from None


def load_avmnist_npy(spec: dict, seed: int) -> dict:
    """The original AV-MNIST folder: image/, audio/ and *_labels.npy (docs/SOURCES.md).

    Validation = the last `n_val` (default 5,000) training rows, as the authors' code does.
    """
    root = existing_source(spec["path"])
    raw, files = {}, []
    for part in ("train", "test"):
        img = _load_npy(root, f"image/{part}_data.npy")
        aud = _load_npy(root, f"audio/{part}_data.npy")
        lab = _load_npy(root, f"{part}_labels.npy")
        files += [
            root / f"image/{part}_data.npy",
            root / f"audio/{part}_data.npy",
            root / f"{part}_labels.npy",
        ]
        n = len(lab)
        if lab.ndim != 1 or not np.issubdtype(lab.dtype, np.integer):
            raise InputError(
                root / f"{part}_labels.npy",
                "labels",
                f"must be integer [N], got {lab.dtype} {lab.shape}",
            )
        if n and (lab.min() < 0 or lab.max() > 9):
            raise InputError(root / f"{part}_labels.npy", "labels", "values outside 0..9")
        if img.shape[1:] == (784,):
            img = img.reshape(-1, 28, 28)
        if img.shape[1:] != (28, 28) or len(img) != n:
            raise InputError(
                root / f"image/{part}_data.npy",
                "shape",
                f"{list(img.shape)}, expected [{n}, 784] or [{n}, 28, 28]",
            )
        if aud.shape[1:] != (112, 112) or len(aud) != n:
            raise InputError(
                root / f"audio/{part}_data.npy",
                "shape",
                f"{list(aud.shape)}, expected [{n}, 112, 112]",
            )
        check_finite(root / f"image/{part}_data.npy", "data", img)
        check_finite(root / f"audio/{part}_data.npy", "data", aud)
        raw[part] = (aud.astype(np.float32), img.astype(np.float32), lab.astype(np.int64))
    n_train = len(raw["train"][2])
    n_val = int(spec.get("n_val") or 5000)
    if not 0 < n_val < n_train:
        raise InputError(
            root / "train_labels.npy",
            "labels",
            f"{n_train} rows cannot hold {n_val} validation rows",
        )
    cut = n_train - n_val
    parts = {"train": slice(0, cut), "val": slice(cut, n_train)}
    splits, labels = {}, {}
    for s in SPLITS:
        aud, img, lab = raw["test"] if s == "test" else tuple(a[parts[s]] for a in raw["train"])
        splits[s], labels[s] = {"audio": aud, "image": img}, lab
    return {"splits": splits, "labels": labels, "sources": files, "params": {**spec, "seed": seed}}


def _fuel_ranges(f: h5py.File, path: Path) -> dict[str, tuple[int, int]] | None:
    """Split ranges from a Fuel `split` attribute (fields split/source/start/stop), if any."""
    if "split" not in f.attrs:
        return None
    table = f.attrs["split"]
    try:
        rows = [(r["split"], r["source"], int(r["start"]), int(r["stop"])) for r in table]
    except (ValueError, KeyError, TypeError, IndexError):
        raise InputError(
            path, "attrs/split", "not a Fuel split table (split/source/start/stop)"
        ) from None
    names = {"train": "train", "dev": "val", "val": "val", "test": "test"}
    out = {}
    for split, source, start, stop in rows:
        split = split.decode() if isinstance(split, bytes) else str(split)
        source = source.decode() if isinstance(source, bytes) else str(source)
        if source == MMIMDB_KEYS["labels"] and split in names:
            out[names[split]] = (start, stop)
    if set(out) != set(SPLITS):
        raise InputError(
            path, "attrs/split", f"needs train, dev and test rows for genres, got {sorted(out)}"
        )
    return out


def load_mmimdb(spec: dict, seed: int) -> dict:
    """MM-IMDB: image = `vgg_features` [N, 4096], text = `features` [N, 300] (word2vec mean),
    labels = `genres` [N, 23] multi-hot; splits from the Fuel table or the GMU index ranges."""
    path = existing_source(spec["path"])
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise InputError(path, "file", f"cannot open as HDF5 ({exc.__class__.__name__})") from None
    with f:
        for key in MMIMDB_KEYS.values():
            if key not in f:
                raise InputError(path, f"/{key}", "missing dataset")
        n = f[MMIMDB_KEYS["labels"]].shape[0]
        if f["genres"].ndim != 2 or f["genres"].shape[1] != len(MMIMDB_GENRES):
            raise InputError(path, "/genres", f"shape {list(f['genres'].shape)}, expected [N, 23]")
        for mod, dim in (("image", 4096), ("text", 300)):
            ds = f[MMIMDB_KEYS[mod]]
            if ds.ndim != 2 or ds.shape[0] != n or ds.shape[1] != dim:
                raise InputError(
                    path, f"/{MMIMDB_KEYS[mod]}", f"shape {list(ds.shape)}, expected [{n}, {dim}]"
                )
        ranges = _fuel_ranges(f, path)
        if ranges is None:
            if n != MMIMDB_RANGES["test"][1]:
                raise InputError(
                    path, "attrs/split", f"no Fuel split table and {n} rows (GMU release has 25959)"
                )
            ranges = MMIMDB_RANGES
        splits, labels = {}, {}
        for s, (lo, hi) in ranges.items():
            if not 0 <= lo < hi <= n:
                raise InputError(path, "attrs/split", f"{s} range {lo}:{hi} outside 0:{n}")
            splits[s] = {m: f[MMIMDB_KEYS[m]][lo:hi].astype(np.float32) for m in ("image", "text")}
            y = f["genres"][lo:hi]
            if not np.isin(y, (0, 1)).all():
                raise InputError(path, "/genres", "multi-hot values must be 0 or 1")
            labels[s] = y.astype(np.uint8)
            for m in ("image", "text"):
                check_finite(path, f"/{MMIMDB_KEYS[m]}", splits[s][m])
    return {
        "splits": splits,
        "labels": labels,
        "classes": MMIMDB_GENRES,
        "sources": [path],
        "params": {
            **spec,
            "seed": seed,
            "keys": MMIMDB_KEYS,
            "ranges": {k: list(v) for k, v in ranges.items()},
        },
    }


# The bring-your-own kinds: each needs `path`.
KINDS = (
    DatasetKind(name="hdf5", build=load_hdf5, required=("path",)),
    # The original AV-MNIST folder: the same modalities, backbones and storage as ours.
    DatasetKind(
        name="avmnist_npy",
        build=load_avmnist_npy,
        modalities=AVMNIST.modalities,
        backbones=AVMNIST.backbones,
        required=("path",),
        half_precision=AVMNIST.half_precision,
    ),
    DatasetKind(
        name="mmimdb",
        build=load_mmimdb,
        modalities=("image", "text"),
        required=("path",),
        multi_label=True,
    ),
)
