"""Unimodal baseline (MFAS paper Table 2's "unimodal baselines for fusion"): one modality's
last tap -> the shared MLP head. Its test score is cross-checked against the backbone's own
linear head (results/backbones/<ds>/<modality>.metrics.json)."""

from __future__ import annotations

import torch
from torch import nn

from mfas_core.models.base import MLPHead, tap


class Unimodal(nn.Module):
    """Modality `modality` (1-based) of the inputs; forward takes every modality's taps."""

    def __init__(self, sizes: list[list[int]], n_out, *, modality: int, width: int, dropout: float):
        super().__init__()
        if not 1 <= modality <= len(sizes):
            raise ValueError(f"unimodal_{modality}: the data has {len(sizes)} modalities")
        self.modality = modality
        self.sizes = list(sizes[modality - 1])
        self.head = MLPHead(self.sizes[-1], width, n_out, dropout)

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return self.head(tap(xs[self.modality - 1], self.sizes, len(self.sizes)))
