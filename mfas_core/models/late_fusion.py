"""Late fusion / two-stream (Simonyan & Zisserman, NIPS 2014, as MFAS Table 2's
"Two-stream"): the two backbones' last features concatenated -> an MLP of the final width."""

from __future__ import annotations

import torch
from torch import nn

from mfas_core.models.base import MLPHead, tap


class LateFusion(nn.Module):
    def __init__(self, sizes1, sizes2, n_out, *, width: int, dropout: float):
        super().__init__()
        self.sizes1, self.sizes2 = list(sizes1), list(sizes2)
        self.head = MLPHead(sizes1[-1] + sizes2[-1], width, n_out, dropout)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        last1 = tap(x1, self.sizes1, len(self.sizes1))
        last2 = tap(x2, self.sizes2, len(self.sizes2))
        return self.head(torch.cat([last1, last2], 1))
