"""Phase 2 of MFAS final training (Pérez-Rúa et al., CVPR 2019, §4; authors' code): the
backbones of every modality, unfrozen, feed their taps to the fusion net. Output (fused logits,
modality-1 logits, …, modality-N logits): the multitask loss is the sum of the N + 1
cross-entropies, the modality heads being the backbones' own linear heads on their last taps."""

from __future__ import annotations

import torch
from torch import nn

from mfas_core.models.base import stack_taps


class FinetuneNet(nn.Module):
    def __init__(self, backbones: list[nn.Module], fusion: nn.Module):
        super().__init__()
        self.backbones, self.fusion = nn.ModuleList(backbones), fusion

    def forward(self, *raws: torch.Tensor):
        taps = [net.taps(raw) for net, raw in zip(self.backbones, raws, strict=True)]
        fused = self.fusion(*(stack_taps(t) for t in taps))
        return fused, *(net.head(t[-1]) for net, t in zip(self.backbones, taps, strict=True))
