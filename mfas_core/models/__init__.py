"""Stage: plain nn.Modules — the one found MFAS architecture and the fusion baselines.

Takes in: the cached taps of both modalities as x1 [B, M, D1] and x2 [B, N, D2] (each tap
zero-padded to the widest); returns logits (CentralNet: a tuple, fused head first).
Writes: nothing itself (models are trained and saved by `mfas_core.final`).
Called by: rules `final_train`, `final_baseline` through `mfas_core.final`.
"""

from mfas_core.models.registry import BASELINES, build_baseline

__all__ = ["BASELINES", "build_baseline"]
