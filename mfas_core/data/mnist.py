"""MNIST from its original IDX files, and the image transforms built on it.

- `load_mnist`: the 60,000 / 10,000 digits as uint8 [N, 28, 28] and int64 labels.
- `remove_pca_energy`: AV-MNIST's image degradation (remove the leading principal
  components holding a given fraction of the training variance).
- `split_halves` / `join_halves` / `damage`: DMF's left/right-halves toy.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from mfas_core.data.sources import mnist_file
from mfas_core.errors import InputError

IDX_MAGIC = {2049: 1, 2051: 3}  # labels: 1 dim, images: 3 dims (all unsigned bytes)


def read_idx(path: str | Path) -> np.ndarray:
    """Read a (gzipped) IDX file of unsigned bytes; InputError naming the file if malformed."""
    try:
        opener = gzip.open if str(path).endswith(".gz") else open
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise InputError(path, "file", f"unreadable ({exc.__class__.__name__})") from None
    magic = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else -1
    if magic not in IDX_MAGIC:
        raise InputError(path, "header/magic", f"{magic} is not an IDX byte file (2049/2051)")
    ndim = IDX_MAGIC[magic]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise InputError(path, "data", f"{body.size} bytes but the header says {dims}")
    return body.reshape(dims)


def load_mnist(split: str) -> tuple[np.ndarray, np.ndarray, list[Path]]:
    """MNIST `train` (60,000) or `test` (10,000): images uint8 [N,28,28], labels, files read."""
    img_path, lab_path = mnist_file(split, "images"), mnist_file(split, "labels")
    images, labels = read_idx(img_path), read_idx(lab_path).astype(np.int64)
    if images.shape[1:] != (28, 28):
        raise InputError(img_path, "data", f"images are {images.shape[1:]}, not 28x28")
    if len(images) != len(labels):
        raise InputError(lab_path, "data", f"{len(labels)} labels for {len(images)} images")
    if labels.min() < 0 or labels.max() > 9:
        raise InputError(lab_path, "data", "labels outside 0..9")
    return images, labels, [img_path, lab_path]


def subset(n_avail: int, n: int, rng: np.random.Generator, where: str) -> np.ndarray:
    """Sorted indices of a seeded random subset of size n out of n_avail (all if equal)."""
    if n > n_avail:
        raise InputError("config", where, f"{n} asked but only {n_avail} available")
    if n == n_avail:
        return np.arange(n_avail)
    return np.sort(rng.choice(n_avail, size=n, replace=False))


def remove_pca_energy(
    train: np.ndarray, others: list[np.ndarray], fraction: float
) -> tuple[np.ndarray, list[np.ndarray], dict]:
    """Remove the leading principal directions holding `fraction` of the train variance.

    PCA is fitted on `train` only ([N, D] floats). The k leading components are projected
    out entirely and the (k+1)-th partly, so the removed share of the training variance is
    exactly `fraction`; the mean image is added back so outputs stay image-like.
    Returns transformed train, transformed others, and a summary (components, removed).
    """
    x = train.astype(np.float64)
    mean = x.mean(0)
    xc = x - mean
    cov = xc.T @ xc / max(1, len(x) - 1)
    evals, evecs = np.linalg.eigh(cov)
    evals, evecs = np.clip(evals[::-1], 0, None), evecs[:, ::-1]
    total = evals.sum()
    target = fraction * total
    cum = np.concatenate([[0.0], np.cumsum(evals)])
    k = int(np.searchsorted(cum, target, side="right") - 1)  # cum[k] <= target < cum[k+1]
    k = min(k, len(evals) - 1)
    rest = target - cum[k]
    # Partial removal of component k: keep (1-a) of its projection, removing (1-(1-a)^2) λ_k.
    a = 1.0 - np.sqrt(max(0.0, 1.0 - rest / evals[k])) if evals[k] > 0 else 0.0
    scale = np.zeros(len(evals))
    scale[:k] = 1.0
    scale[k] = a
    proj = evecs * scale  # [D, D] columns scaled by how much of each component to remove

    def apply(arr: np.ndarray) -> np.ndarray:
        z = arr.astype(np.float64) - mean
        return (z - (z @ evecs) @ proj.T + mean).astype(np.float32)

    out_train = apply(train)
    removed = 1.0 - float(((out_train - mean) ** 2).sum() / max(1e-12, (xc**2).sum()))
    info = {"components_removed": k, "partial_component": float(a), "removed_train": removed}
    return out_train, [apply(o) for o in others], info


def split_halves(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Left and right 14-column halves of [N, 28, 28] images, each flattened to [N, 392]."""
    n = len(images)
    return images[:, :, :14].reshape(n, 392), images[:, :, 14:].reshape(n, 392)


def join_halves(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Inverse of `split_halves`: [N, 392] x 2 -> [N, 28, 28]."""
    n = len(left)
    return np.concatenate([left.reshape(n, 28, 14), right.reshape(n, 28, 14)], axis=2)


def damage(x: np.ndarray, level: float, rng: np.random.Generator) -> np.ndarray:
    """Copy of x [N, D] with round(level·D) randomly chosen entries of each row set to zero."""
    n, d = x.shape
    k = int(round(level * d))
    out = x.copy()
    if k:
        cols = np.argsort(rng.random((n, d)), axis=1)[:, :k]
        np.put_along_axis(out, cols, 0, axis=1)
    return out
