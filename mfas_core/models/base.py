"""What every fusion model shares: tap access and the MLP head (the baselines by name:
mfas_core.models.registry)."""

from __future__ import annotations

import torch
from torch import nn


def tap(x: torch.Tensor, sizes: list[int], k: int) -> torch.Tensor:
    """Tap k (1-based) of a padded [B, M, D] tensor, cut to its own width [B, d_k]."""
    return x[:, k - 1, : sizes[k - 1]]


def stack_taps(taps: list[torch.Tensor]) -> torch.Tensor:
    """List of [B, d_k] taps -> one zero-padded [B, M, max d] tensor (differentiable)."""
    width = max(t.shape[1] for t in taps)
    return torch.stack([nn.functional.pad(t, (0, width - t.shape[1])) for t in taps], 1)


class MLPHead(nn.Sequential):
    """Linear(in, width) + ReLU + dropout + Linear(width, n_out): the head every baseline
    puts on its fused vector, so that methods differ only in how they fuse."""

    def __init__(self, in_size: int, width: int, n_out: int, dropout: float):
        super().__init__(
            nn.Linear(in_size, width), nn.ReLU(), nn.Dropout(dropout), nn.Linear(width, n_out)
        )
