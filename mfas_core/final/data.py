"""Cached taps of both modalities for all three splits, as final training reads them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mfas_core.data.schema import SPLITS
from mfas_core.unimodal.features import read_feature_pair


@dataclass
class TapData:
    """x1[split] [n, M, D1], x2[split] [n, N, D2] (taps zero-padded), y[split] labels."""

    x1: dict[str, torch.Tensor]
    x2: dict[str, torch.Tensor]
    y: dict[str, np.ndarray]
    sizes1: list[int]
    sizes2: list[int]
    task: str
    n_classes: int

    def inputs(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x1[split], self.x2[split]


def _stack(layers: list[np.ndarray]) -> torch.Tensor:
    width = max(a.shape[1] for a in layers)
    out = torch.zeros(layers[0].shape[0], len(layers), width)
    for k, a in enumerate(layers):
        out[:, k, : a.shape[1]] = torch.from_numpy(a)
    return out


def load_taps(path1: str | Path, path2: str | Path) -> TapData:
    """Read two feature files (modality 1 first); they must describe the same samples."""
    s1, s2, splits = read_feature_pair(path1, path2, SPLITS)
    x1, x2, y = {}, {}, {}
    for split, (layers1, layers2, y1) in splits.items():
        x1[split], x2[split] = _stack(layers1), _stack(layers2)
        y[split] = y1.astype(np.float32) if s1.task == "multi" else y1.astype(np.int64)
    return TapData(x1, x2, y, list(s1.layer_sizes), list(s2.layer_sizes), s1.task, s1.n_classes)
