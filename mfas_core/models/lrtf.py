"""Low-rank tensor fusion (Liu et al., ACL 2018; MultiBench's LowRankTensorFusion on
AV-MNIST): the tensor-fusion weight over [x_1; 1] ⊗ … ⊗ [x_N; 1] (Zadeh et al., EMNLP 2017)
factorised into `rank` modality factors, h = Σ_r w_r · Π_m ([x_m; 1] W_m^(r)) + b (the
N-way product over every modality), then the shared MLP head. Inputs are the last taps."""

from __future__ import annotations

import torch
from torch import nn

from mfas_core.models.base import MLPHead, tap


class LowRankTensorFusion(nn.Module):
    def __init__(self, sizes: list[list[int]], n_out, *, width: int, dropout: float, rank: int = 4):
        super().__init__()
        self.sizes = [list(s) for s in sizes]
        self.factors = nn.ParameterList(
            nn.Parameter(torch.empty(rank, s[-1] + 1, width)) for s in self.sizes
        )
        self.rank_weights = nn.Parameter(torch.empty(1, rank))
        self.bias = nn.Parameter(torch.zeros(1, width))
        for p in (*self.factors, self.rank_weights):
            nn.init.xavier_normal_(p)
        self.head = MLPHead(width, width, n_out, dropout)

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        last = [tap(x, s, len(s)) for x, s in zip(xs, self.sizes, strict=True)]
        one = last[0].new_ones(last[0].shape[0], 1)
        product = None
        for a, factor in zip(last, self.factors, strict=True):
            f = torch.matmul(torch.cat([a, one], 1), factor)  # [rank, B, width]
            product = f if product is None else product * f
        fused = torch.matmul(self.rank_weights, product.permute(1, 0, 2)).squeeze(1)
        return self.head(fused + self.bias)
