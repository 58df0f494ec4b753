"""Models: plain nn.Modules for final training (the one found MFAS architecture) and the
fusion baselines it is compared with. Every model reads the cached taps of both modalities as
x1 [B, M, D1] and x2 [B, N, D2] (each tap zero-padded to the widest) and returns logits
(CentralNet: a tuple, fused head first). Called by mfas_core.final (rules final_*)."""

from mfas_core.models.base import BASELINES, build_baseline

__all__ = ["BASELINES", "build_baseline"]
