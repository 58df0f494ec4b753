"""Early fusion (as MultiBench runs it on AV-MNIST, Liang et al., NeurIPS 2021 Datasets):
every tap of both modalities concatenated -> the same MLP as late fusion. Our "inputs" are
the cached pooled taps, not raw pixels and spectrograms."""

from __future__ import annotations

import torch
from torch import nn

from mfas_core.models.base import MLPHead, tap


class EarlyFusion(nn.Module):
    def __init__(self, sizes1, sizes2, n_out, *, width: int, dropout: float):
        super().__init__()
        self.sizes1, self.sizes2 = list(sizes1), list(sizes2)
        self.head = MLPHead(sum(sizes1) + sum(sizes2), width, n_out, dropout)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        parts = [tap(x1, self.sizes1, k) for k in range(1, len(self.sizes1) + 1)]
        parts += [tap(x2, self.sizes2, k) for k in range(1, len(self.sizes2) + 1)]
        return self.head(torch.cat(parts, 1))
