"""Early fusion (as MultiBench runs it on AV-MNIST, Liang et al., NeurIPS 2021 Datasets):
every tap of every modality concatenated -> the same MLP as late fusion. Our "inputs" are
the cached pooled taps, not raw pixels and spectrograms."""

from __future__ import annotations

import torch
from torch import nn

from mfas_core.models.base import MLPHead, tap


class EarlyFusion(nn.Module):
    def __init__(self, sizes: list[list[int]], n_out, *, width: int, dropout: float):
        super().__init__()
        self.sizes = [list(s) for s in sizes]
        self.head = MLPHead(sum(sum(s) for s in self.sizes), width, n_out, dropout)

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        parts = [
            tap(x, s, k) for x, s in zip(xs, self.sizes, strict=True) for k in range(1, len(s) + 1)
        ]
        return self.head(torch.cat(parts, 1))
