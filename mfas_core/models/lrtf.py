"""Low-rank tensor fusion (Liu et al., ACL 2018; MultiBench's LowRankTensorFusion on
AV-MNIST): the tensor-fusion weight over [x_1; 1] ⊗ [x_2; 1] (Zadeh et al., EMNLP 2017)
factorised into `rank` modality factors, h = Σ_r w_r · Π_m ([x_m; 1] W_m^(r)) + b, then the
shared MLP head. Inputs are the two last taps."""

from __future__ import annotations

import torch
from torch import nn

from mfas_core.models.base import MLPHead, tap


class LowRankTensorFusion(nn.Module):
    def __init__(self, sizes1, sizes2, n_out, *, width: int, dropout: float, rank: int = 4):
        super().__init__()
        self.sizes1, self.sizes2 = list(sizes1), list(sizes2)
        self.factor1 = nn.Parameter(torch.empty(rank, sizes1[-1] + 1, width))
        self.factor2 = nn.Parameter(torch.empty(rank, sizes2[-1] + 1, width))
        self.rank_weights = nn.Parameter(torch.empty(1, rank))
        self.bias = nn.Parameter(torch.zeros(1, width))
        for p in (self.factor1, self.factor2, self.rank_weights):
            nn.init.xavier_normal_(p)
        self.head = MLPHead(width, width, n_out, dropout)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        a = tap(x1, self.sizes1, len(self.sizes1))
        b = tap(x2, self.sizes2, len(self.sizes2))
        one = a.new_ones(a.shape[0], 1)
        f1 = torch.matmul(torch.cat([a, one], 1), self.factor1)  # [rank, B, width]
        f2 = torch.matmul(torch.cat([b, one], 1), self.factor2)
        fused = torch.matmul(self.rank_weights, (f1 * f2).permute(1, 0, 2)).squeeze(1)
        return self.head(fused + self.bias)
