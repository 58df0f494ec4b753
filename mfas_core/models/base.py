"""What every fusion model shares: tap access, the MLP head, and the baseline registry."""

from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "leakyrelu": lambda: nn.LeakyReLU(0.01),
}


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


def build_baseline(
    method: str, sizes1: list[int], sizes2: list[int], n_out: int, *, width: int,
    dropout: float, rank: int = 4,
) -> nn.Module:  # fmt: skip
    """A baseline by name: unimodal_1 / unimodal_2 (modality index), late_fusion,
    early_fusion, centralnet, gmu, lrtf."""
    from mfas_core.models.centralnet import CentralNet
    from mfas_core.models.early_fusion import EarlyFusion
    from mfas_core.models.gmu import GMUFusion
    from mfas_core.models.late_fusion import LateFusion
    from mfas_core.models.lrtf import LowRankTensorFusion
    from mfas_core.models.unimodal import Unimodal

    kw = dict(width=width, dropout=dropout)
    if method in ("unimodal_1", "unimodal_2"):
        return Unimodal(sizes1, sizes2, n_out, modality=int(method[-1]), **kw)
    table = {
        "late_fusion": LateFusion,
        "early_fusion": EarlyFusion,
        "centralnet": CentralNet,
        "gmu": GMUFusion,
    }
    if method == "lrtf":
        return LowRankTensorFusion(sizes1, sizes2, n_out, rank=rank, **kw)
    if method not in table:
        raise ValueError(f"final.baselines: unknown method {method!r}; known: {BASELINES}")
    return table[method](sizes1, sizes2, n_out, **kw)


# Config names of the baselines; `unimodal` stands for one run per modality.
BASELINES = ("unimodal", "late_fusion", "early_fusion", "centralnet", "gmu", "lrtf")
