"""Gated Multimodal Unit (Arevalo et al., ICLR Workshops 2017, the MM-IMDB paper) on the last
taps. Two modalities (the paper's bimodal unit): h_i = tanh(W_i x_i), z = σ(W_z [x_1; x_2]),
h = z ⊙ h_1 + (1 - z) ⊙ h_2. N > 2 modalities (the paper's N-ary unit): one gate per
modality, z_i = σ(W_zi [x_1; …; x_N]), h = Σ_i z_i ⊙ h_i. Then dropout and a linear
classifier (the original puts a maxout MLP after h)."""

from __future__ import annotations

import torch
from torch import nn

from mfas_core.models.base import tap


class GMUFusion(nn.Module):
    def __init__(self, sizes: list[list[int]], n_out, *, width: int, dropout: float):
        super().__init__()
        self.sizes = [list(s) for s in sizes]
        dims = [s[-1] for s in self.sizes]
        self.hs = nn.ModuleList(nn.Linear(d, width, bias=False) for d in dims)
        n_gates = 1 if len(dims) == 2 else len(dims)
        self.gate = nn.Linear(sum(dims), width * n_gates, bias=False)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_out)

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        last = [tap(x, s, len(s)) for x, s in zip(xs, self.sizes, strict=True)]
        z = torch.sigmoid(self.gate(torch.cat(last, 1)))
        hs = [torch.tanh(h(a)) for h, a in zip(self.hs, last, strict=True)]
        if len(hs) == 2:
            h = z * hs[0] + (1 - z) * hs[1]
        else:
            h = sum(zi * hi for zi, hi in zip(z.chunk(len(hs), 1), hs, strict=True))
        return self.head(self.drop(h))
