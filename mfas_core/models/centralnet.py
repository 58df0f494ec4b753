"""CentralNet (Vielzeuf et al., ECCV Workshops 2018) on frozen taps.

The central branch at depth i takes a learned weighted sum α_c,i·h_c,(i-1) + Σ_j α_j,i·u_j,i
of its previous state and every modality's hidden feature u_j,i at that depth (one weighted
sum over the N streams), then a layer (Linear + ReLU). Modality j has M_j taps; depth
i = 1..D with D = min_j M_j uses the last D taps of each, each projected to the final width
(Linear + ReLU; the original branches are the trained unimodal nets themselves). Output:
(central logits, modality-1 logits, …, modality-N logits), trained with the sum of the
N + 1 losses (multitask).
"""

from __future__ import annotations

import torch
from torch import nn

from mfas_core.models.base import tap


class CentralNet(nn.Module):
    def __init__(self, sizes: list[list[int]], n_out, *, width: int, dropout: float):
        super().__init__()
        self.sizes = [list(s) for s in sizes]
        self.depth = min(len(s) for s in self.sizes)
        self.taps = [list(range(len(s) - self.depth + 1, len(s) + 1)) for s in self.sizes]
        self.projs = nn.ModuleList(
            nn.ModuleList(nn.Linear(s[k - 1], width) for k in taps)
            for s, taps in zip(self.sizes, self.taps, strict=True)
        )
        self.central = nn.ModuleList(nn.Linear(width, width) for _ in range(self.depth))
        # α_c, α_1, …, α_N per depth; initialised to 1 (the plain sum), as the original.
        self.alphas = nn.Parameter(torch.ones(self.depth, len(self.sizes) + 1))
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_out)
        self.heads = nn.ModuleList(nn.Linear(width, n_out) for _ in self.sizes)

    def forward(self, *xs: torch.Tensor):
        h = None
        for i in range(self.depth):
            us = [
                torch.relu(proj[i](tap(x, s, taps[i])))
                for x, s, taps, proj in zip(xs, self.sizes, self.taps, self.projs, strict=True)
            ]
            mix = self.alphas[i, 1] * us[0]
            for j, u in enumerate(us[1:], 2):
                mix = mix + self.alphas[i, j] * u
            if h is not None:
                mix = mix + self.alphas[i, 0] * h
            h = torch.relu(self.central[i](mix))
        return (
            self.head(self.drop(h)),
            *(head(self.drop(u)) for head, u in zip(self.heads, us, strict=True)),
        )
