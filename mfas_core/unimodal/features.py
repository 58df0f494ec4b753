"""The per-layer pooled feature cache: extraction to HDF5 and a read-only store.

Layout of results/features/<dataset>/<modality>.h5:
  /<split>/layer_<k>   float32 [N, d_k], k = 1..M (one per backbone tap, shallow to deep)
  /<split>/logits      float32 [N, C]  (the backbone head on the last tap)
  /<split>/labels      int64 [N] or uint8 [N, C]
  attrs: dataset, modality, task, n_classes, layer_names (JSON), layer_sizes (JSON),
         backbone_sha256, data_sha256
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np


class FeatureStore:
    """Read-only view of one feature file; arrays are loaded on demand as float32."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        with h5py.File(self.path, "r") as f:
            attrs = dict(f.attrs)
        self.dataset = str(attrs["dataset"])
        self.modality = str(attrs["modality"])
        self.task = str(attrs["task"])
        self.n_classes = int(attrs["n_classes"])
        self.layer_names: list[str] = json.loads(attrs["layer_names"])
        self.layer_sizes: list[int] = json.loads(attrs["layer_sizes"])
        self.backbone_sha256 = str(attrs["backbone_sha256"])
        self.data_sha256 = str(attrs["data_sha256"])

    @property
    def n_layers(self) -> int:
        return len(self.layer_sizes)

    def n_samples(self, split: str) -> int:
        with h5py.File(self.path, "r") as f:
            return int(f[split]["labels"].shape[0])

    def layer(self, split: str, k: int) -> np.ndarray:
        """Tap k (1-based, as in the paper's x_1..x_M) of a split, [N, d_k] float32."""
        if not 1 <= k <= self.n_layers:
            raise IndexError(f"{self.path}: layer_{k}: only layers 1..{self.n_layers} exist")
        with h5py.File(self.path, "r") as f:
            return f[split][f"layer_{k}"][()].astype(np.float32)

    def layers(self, split: str) -> list[np.ndarray]:
        """All taps of a split, shallow to deep."""
        with h5py.File(self.path, "r") as f:
            return [
                f[split][f"layer_{k}"][()].astype(np.float32) for k in range(1, self.n_layers + 1)
            ]

    def logits(self, split: str) -> np.ndarray:
        with h5py.File(self.path, "r") as f:
            return f[split]["logits"][()].astype(np.float32)

    def labels(self, split: str) -> np.ndarray:
        with h5py.File(self.path, "r") as f:
            return f[split]["labels"][()]

    def verify(
        self, backbone_path: str | Path | None = None, data_path: str | Path | None = None
    ) -> None:
        """Fail (naming the file to rebuild) if the cache was made from other weights or data."""
        from mfas_core.atomic import sha256_file
        from mfas_core.errors import InputError

        if backbone_path is not None and sha256_file(backbone_path) != self.backbone_sha256:
            raise InputError(
                self.path,
                "attrs/backbone_sha256",
                f"made from other weights than {backbone_path}; rebuild {self.path}",
            )
        if data_path is not None and sha256_file(data_path) != self.data_sha256:
            raise InputError(
                self.path,
                "attrs/data_sha256",
                f"made from another {data_path}; rebuild {self.path}",
            )


def read_feature_set(
    paths: list[str | Path], splits: tuple[str, ...]
) -> tuple[list[FeatureStore], dict[str, tuple[list[list[np.ndarray]], np.ndarray]]]:
    """Feature files of N modalities (modality 1 first), checked to describe the same samples.

    Returns the stores and, per split, the taps of each modality (float32, shallow to deep)
    and the labels. Dataset, task and class count must agree, the labels must be equal, every
    tap must have a row per label and no NaN/inf; otherwise an InputError names the file.
    """
    from mfas_core.errors import InputError

    stores = [FeatureStore(p) for p in paths]
    first, path1 = stores[0], paths[0]
    for store, path in zip(stores[1:], paths[1:], strict=True):
        for attr in ("dataset", "task", "n_classes"):
            if getattr(store, attr) != getattr(first, attr):
                raise InputError(
                    path,
                    f"attrs/{attr}",
                    f"{getattr(store, attr)!r} differs from {getattr(first, attr)!r} in {path1}",
                )
    out = {}
    for split in splits:
        y1 = first.labels(split)
        for store, path in zip(stores[1:], paths[1:], strict=True):
            y = store.labels(split)
            if len(y1) != len(y):
                raise InputError(
                    path, f"/{split}/labels", f"{len(y)} samples but {path1} has {len(y1)}"
                )
            if not np.array_equal(y1, y):
                raise InputError(path, f"/{split}/labels", f"labels differ from those in {path1}")
        taps = []
        for store, path in zip(stores, paths, strict=True):
            layers = store.layers(split)
            for k, a in enumerate(layers, 1):
                if a.shape[0] != len(y1):
                    raise InputError(
                        path, f"/{split}/layer_{k}", f"{a.shape[0]} rows, labels {len(y1)}"
                    )
                if not np.isfinite(a).all():
                    raise InputError(path, f"/{split}/layer_{k}", "contains NaN or inf")
            taps.append(layers)
        out[split] = (taps, y1)
    return stores, out


def read_feature_pair(
    path1: str | Path, path2: str | Path, splits: tuple[str, ...]
) -> tuple[
    FeatureStore, FeatureStore, dict[str, tuple[list[np.ndarray], list[np.ndarray], np.ndarray]]
]:
    """read_feature_set of two modalities, as (store 1, store 2, split -> (taps 1, taps 2, y))."""
    (s1, s2), got = read_feature_set([path1, path2], splits)
    return s1, s2, {k: (taps[0], taps[1], y) for k, (taps, y) in got.items()}


def tap_labels(model, modality: str) -> list[str]:
    """Display names of a backbone's taps: `<modality>.block<k>`, or the configured module
    names of a pretrained one."""
    names = getattr(model, "tap_names", None)
    if names is None:
        names = [f"block{k}" for k in range(1, len(model.tap_sizes) + 1)]
    return [f"{modality}.{n}" for n in names]


def extract_features(
    data: str | Path,
    backbone: str | Path,
    out: str | Path,
    *,
    dataset: str,
    modality: str,
    spec: dict,
    batch_size: int = 512,
    device: str = "cpu",
    threads: int | None = None,
    splits: tuple[str, ...] | None = None,
) -> None:
    """Run the frozen backbone once over every split (or the given `splits`) and cache all
    taps, logits and labels.

    Streams `batch_size` rows at a time from the dataset file into chunked HDF5 datasets, so
    memory is bounded by the batch, not the dataset. One writer per output file.
    """
    import sys

    import torch
    from tqdm import tqdm

    from mfas_core.atomic import atomic_path, sha256_file
    from mfas_core.data.schema import SPLITS
    from mfas_core.runtime import pick_device, set_threads
    from mfas_core.unimodal.backbones import dataset_info, load_backbone

    set_threads(threads)
    dev = pick_device(device)
    shape, n_classes, task = dataset_info(data, modality)
    model = load_backbone(backbone, spec, shape, n_classes).to(dev)
    names = [f"layer_{k}" for k in range(1, len(model.tap_sizes) + 1)]
    with atomic_path(out) as tmp, h5py.File(data, "r") as src, h5py.File(tmp, "w") as dst:
        dst.attrs.update(
            dataset=dataset,
            modality=modality,
            task=task,
            n_classes=n_classes,
            layer_names=json.dumps(tap_labels(model, modality)),
            layer_sizes=json.dumps([int(s) for s in model.tap_sizes]),
            backbone_sha256=sha256_file(backbone),
            data_sha256=sha256_file(data),
        )
        for split in splits or SPLITS:
            x_src, y = src[split][modality], src[split]["labels"][()]
            n = x_src.shape[0]
            g = dst.create_group(split)
            outs = [
                g.create_dataset(name, (n, d), dtype="f4", chunks=(min(n, 4096), d))
                for name, d in zip(names, model.tap_sizes, strict=True)
            ]
            logits = g.create_dataset(
                "logits", (n, n_classes), dtype="f4", chunks=(min(n, 4096), n_classes)
            )
            g.create_dataset("labels", data=y)
            with torch.no_grad():
                for i in tqdm(
                    range(0, n, batch_size),
                    desc=f"{modality}/{split}",
                    file=sys.stderr,
                    mininterval=5,
                ):
                    xb = torch.from_numpy(x_src[i : i + batch_size]).to(dev)
                    taps = model.taps(xb)
                    for ds, t in zip(outs, taps, strict=True):
                        ds[i : i + len(xb)] = t.float().cpu().numpy()
                    logits[i : i + len(xb)] = model.head(taps[-1]).float().cpu().numpy()
