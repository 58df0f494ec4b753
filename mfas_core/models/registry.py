"""The fusion baselines by config name (`final.baselines` in mfas_core/schema.yaml).

The one module that imports every baseline; each baseline imports only mfas_core.models.base,
so there is no import circle.
"""

from __future__ import annotations

from torch import nn

from mfas_core.models.centralnet import CentralNet
from mfas_core.models.early_fusion import EarlyFusion
from mfas_core.models.gmu import GMUFusion
from mfas_core.models.late_fusion import LateFusion
from mfas_core.models.lrtf import LowRankTensorFusion
from mfas_core.models.unimodal import Unimodal

# Config names of the baselines; `unimodal` stands for one run per modality.
BASELINES = ("unimodal", "late_fusion", "early_fusion", "centralnet", "gmu", "lrtf")

# Baselines built as cls(sizes, n_out, width=, dropout=), sizes = tap widths per modality.
FUSIONS: dict[str, type[nn.Module]] = {
    "late_fusion": LateFusion,
    "early_fusion": EarlyFusion,
    "centralnet": CentralNet,
    "gmu": GMUFusion,
}


def build_baseline(
    method: str, sizes: list[list[int]], n_out: int, *, width: int, dropout: float,
    rank: int = 4,
) -> nn.Module:  # fmt: skip
    """A baseline by name: unimodal_<i> (modality index i, 1-based), late_fusion,
    early_fusion, centralnet, gmu, lrtf; `sizes` = the tap widths of each modality."""
    kw = dict(width=width, dropout=dropout)
    if method.startswith("unimodal_") and method[len("unimodal_") :].isdigit():
        return Unimodal(sizes, n_out, modality=int(method[len("unimodal_") :]), **kw)
    if method == "lrtf":
        return LowRankTensorFusion(sizes, n_out, rank=rank, **kw)
    if method not in FUSIONS:
        raise ValueError(f"final.baselines: unknown method {method!r}; known: {BASELINES}")
    return FUSIONS[method](sizes, n_out, **kw)
