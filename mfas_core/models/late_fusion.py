"""Late fusion / two-stream (Simonyan & Zisserman, NIPS 2014, as MFAS Table 2's
"Two-stream"): every backbone's last features concatenated (modality 1 first) -> an MLP of the
final width."""

from __future__ import annotations

import torch
from torch import nn

from mfas_core.models.base import MLPHead, tap


class LateFusion(nn.Module):
    def __init__(self, sizes: list[list[int]], n_out, *, width: int, dropout: float):
        super().__init__()
        self.sizes = [list(s) for s in sizes]
        self.head = MLPHead(sum(s[-1] for s in self.sizes), width, n_out, dropout)

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        last = [tap(x, s, len(s)) for x, s in zip(xs, self.sizes, strict=True)]
        return self.head(torch.cat(last, 1))
