"""CentralNet (Vielzeuf et al., ECCV Workshops 2018) on frozen taps.

The central branch at depth i takes a learned weighted sum α_c,i·h_c,(i-1) + α_1,i·u_i +
α_2,i·v_i of its previous state and the two modalities' hidden features at that depth, then
a layer (Linear + ReLU). The modalities have M and N taps; depth i = 1..D with D = min(M, N)
uses the last D taps of each, each projected to the final width (Linear + ReLU; the original
branches are the trained unimodal nets themselves). Output: (central logits, modality-1
logits, modality-2 logits), trained with the sum of the three losses (multitask).
"""

from __future__ import annotations

import torch
from torch import nn

from mfas_core.models.base import tap


class CentralNet(nn.Module):
    def __init__(self, sizes1, sizes2, n_out, *, width: int, dropout: float):
        super().__init__()
        self.sizes1, self.sizes2 = list(sizes1), list(sizes2)
        self.depth = min(len(sizes1), len(sizes2))
        self.taps1 = list(range(len(sizes1) - self.depth + 1, len(sizes1) + 1))
        self.taps2 = list(range(len(sizes2) - self.depth + 1, len(sizes2) + 1))
        self.proj1 = nn.ModuleList(nn.Linear(sizes1[k - 1], width) for k in self.taps1)
        self.proj2 = nn.ModuleList(nn.Linear(sizes2[k - 1], width) for k in self.taps2)
        self.central = nn.ModuleList(nn.Linear(width, width) for _ in range(self.depth))
        # α_c, α_1, α_2 per depth; initialised to 1 (the plain sum), as the original.
        self.alphas = nn.Parameter(torch.ones(self.depth, 3))
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_out)
        self.head1 = nn.Linear(width, n_out)
        self.head2 = nn.Linear(width, n_out)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor):
        h = None
        for i in range(self.depth):
            u = torch.relu(self.proj1[i](tap(x1, self.sizes1, self.taps1[i])))
            v = torch.relu(self.proj2[i](tap(x2, self.sizes2, self.taps2[i])))
            mix = self.alphas[i, 1] * u + self.alphas[i, 2] * v
            if h is not None:
                mix = mix + self.alphas[i, 0] * h
            h = torch.relu(self.central[i](mix))
        return (
            self.head(self.drop(h)),
            self.head1(self.drop(u)),
            self.head2(self.drop(v)),
        )
