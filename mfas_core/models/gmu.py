"""Gated Multimodal Unit (Arevalo et al., ICLR Workshops 2017, the MM-IMDB paper) on the two
last taps: h_i = tanh(W_i x_i), z = σ(W_z [x_1; x_2]), h = z ⊙ h_1 + (1 - z) ⊙ h_2, then
dropout and a linear classifier (the original puts a maxout MLP after h)."""

from __future__ import annotations

import torch
from torch import nn

from mfas_core.models.base import tap


class GMUFusion(nn.Module):
    def __init__(self, sizes1, sizes2, n_out, *, width: int, dropout: float):
        super().__init__()
        self.sizes1, self.sizes2 = list(sizes1), list(sizes2)
        d1, d2 = sizes1[-1], sizes2[-1]
        self.h1 = nn.Linear(d1, width, bias=False)
        self.h2 = nn.Linear(d2, width, bias=False)
        self.gate = nn.Linear(d1 + d2, width, bias=False)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_out)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        a = tap(x1, self.sizes1, len(self.sizes1))
        b = tap(x2, self.sizes2, len(self.sizes2))
        z = torch.sigmoid(self.gate(torch.cat([a, b], 1)))
        h = z * torch.tanh(self.h1(a)) + (1 - z) * torch.tanh(self.h2(b))
        return self.head(self.drop(h))
