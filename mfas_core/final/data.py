"""Cached taps of every modality for all three splits, as final training reads them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mfas_core.data.schema import SPLITS
from mfas_core.unimodal.features import read_feature_set


@dataclass
class TapData:
    """Per modality (modality 1 first): x[i][split] [n, M_i, D_i] (taps zero-padded) and its
    tap widths sizes[i]; y[split] labels."""

    x: list[dict[str, torch.Tensor]]
    y: dict[str, np.ndarray]
    sizes: list[list[int]]
    task: str
    n_classes: int

    def inputs(self, split: str) -> tuple[torch.Tensor, ...]:
        return tuple(x[split] for x in self.x)


def stack_taps(layers: list[np.ndarray]) -> torch.Tensor:
    """Taps [n, d_k] of one modality -> [n, K, max d], zero-padded (what the models take)."""
    width = max(a.shape[1] for a in layers)
    out = torch.zeros(layers[0].shape[0], len(layers), width)
    for k, a in enumerate(layers):
        out[:, k, : a.shape[1]] = torch.from_numpy(a)
    return out


def load_taps(*paths: str | Path) -> TapData:
    """Read the feature files of every modality (modality 1 first); they must describe the
    same samples."""
    stores, splits = read_feature_set(list(paths), SPLITS)
    s1 = stores[0]
    x: list[dict[str, torch.Tensor]] = [{} for _ in stores]
    y = {}
    for split, (taps, y1) in splits.items():
        for i, layers in enumerate(taps):
            x[i][split] = stack_taps(layers)
        y[split] = y1.astype(np.float32) if s1.task == "multi" else y1.astype(np.int64)
    return TapData(x, y, [list(s.layer_sizes) for s in stores], s1.task, s1.n_classes)
