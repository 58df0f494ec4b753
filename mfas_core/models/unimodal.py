"""Unimodal baseline (MFAS paper Table 2's "unimodal baselines for fusion"): one modality's
last tap -> the shared MLP head. Its test score is cross-checked against the backbone's own
linear head (results/backbones/<ds>/<modality>.metrics.json)."""

from __future__ import annotations

import torch
from torch import nn

from mfas_core.models.base import MLPHead, tap


class Unimodal(nn.Module):
    def __init__(self, sizes1, sizes2, n_out, *, modality: int, width: int, dropout: float):
        super().__init__()
        self.modality = modality
        self.sizes = list(sizes1 if modality == 1 else sizes2)
        self.head = MLPHead(self.sizes[-1], width, n_out, dropout)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        x = x1 if self.modality == 1 else x2
        return self.head(tap(x, self.sizes, len(self.sizes)))
