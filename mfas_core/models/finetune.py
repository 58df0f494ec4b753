"""Phase 2 of MFAS final training (Pérez-Rúa et al., CVPR 2019, §4; authors' code): the two
backbones, unfrozen, feed their taps to the fusion net. Output (fused logits, modality-1
logits, modality-2 logits): the multitask loss is the sum of the three cross-entropies, the
modality heads being the backbones' own linear heads on their last taps."""

from __future__ import annotations

import torch
from torch import nn

from mfas_core.models.base import stack_taps


class FinetuneNet(nn.Module):
    def __init__(self, backbone1: nn.Module, backbone2: nn.Module, fusion: nn.Module):
        super().__init__()
        self.backbone1, self.backbone2, self.fusion = backbone1, backbone2, fusion

    def forward(self, raw1: torch.Tensor, raw2: torch.Tensor):
        t1, t2 = self.backbone1.taps(raw1), self.backbone2.taps(raw2)
        fused = self.fusion(stack_taps(t1), stack_taps(t2))
        return fused, self.backbone1.head(t1[-1]), self.backbone2.head(t2[-1])
