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
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")
import h5py  # noqa: E402


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
            return [f[split][f"layer_{k}"][()].astype(np.float32) for k in range(1, self.n_layers + 1)]

    def logits(self, split: str) -> np.ndarray:
        with h5py.File(self.path, "r") as f:
            return f[split]["logits"][()].astype(np.float32)

    def labels(self, split: str) -> np.ndarray:
        with h5py.File(self.path, "r") as f:
            return f[split]["labels"][()]
