"""The MFAS search space (paper §3.1): architectures as sequences of layers (t_1, …, t_N, p).

A fusion layer l is γ_l = (t_1, …, t_N, p): tap t_i (1..M_i) of modality i, for each of the
N modalities in their order, and nonlinearity p (1..P, an index into the configured list); for
two modalities this is the paper's (m, n, p). An architecture is 1..L such layers. Its one
canonical text form, used in every TSV and plot, joins the layers with `_` and their fields
with `-`: ((5, 3, 1), (4, 1, 2)) <-> "5-3-1_4-1-2"; a third modality adds one field per layer.

Fusion operators (`search.fusion_ops`, default the paper's `[concat]`): with more than one
configured, a layer gains a last field o (1..O, an index into that list), (t_1, …, t_N, p, o),
and so does its text form ("5-3-1-2_4-1-2-1"); with one operator the layer and its text are
exactly the paper's.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

NONLINEARITIES = ("relu", "sigmoid", "leakyrelu")
# concat = the paper's σ(W [taps ; h] + b); the others in mfas_core.search.ops
FUSION_OPS = ("concat", "product", "gated", "lowrank")

Layer = tuple[int, ...]  # (t_1, ..., t_N, p)
Triple = Layer  # the two-modality name of a layer, (m, n, p)
Arch = tuple[Layer, ...]


def arch_to_text(arch: Arch) -> str:
    """Canonical text form: ((5, 3, 1), (4, 1, 2)) -> '5-3-1_4-1-2'."""
    return "_".join("-".join(str(int(v)) for v in t) for t in arch)


def layer_op(layer: Layer, n_modalities: int) -> int:
    """The 1-based fusion operator of a layer: its field after p, or 1 (the first configured
    operator) when the layer has none."""
    return int(layer[n_modalities + 1]) if len(layer) > n_modalities + 1 else 1


def text_to_arch(text: str, n_modalities: int | None = None, n_ops: int = 1) -> Arch:
    """Inverse of arch_to_text; raises ValueError on a malformed string, or on one whose layers
    do not have n_modalities + 1 fields (+ 1 for the operator when n_ops > 1) when
    `n_modalities` is given."""
    try:
        arch = tuple(tuple(int(v) for v in part.split("-")) for part in str(text).split("_"))
    except ValueError:
        raise ValueError(
            f"architecture {text!r}: fields must be integers like '5-3-1_4-1-2'"
        ) from None
    if not arch or len({len(t) for t in arch}) != 1 or len(arch[0]) < 3:
        raise ValueError(
            f"architecture {text!r}: every layer needs the same number of fields, at least "
            "three fields m-n-p"
        )
    want = None if n_modalities is None else n_modalities + 1 + (n_ops > 1)
    if want is not None and len(arch[0]) != want:
        what = "one tap each and p" + (", o" if n_ops > 1 else "")
        raise ValueError(
            f"architecture {text!r}: {len(arch[0])} fields per layer, but the dataset has "
            f"{n_modalities} modalities and {n_ops} fusion operator(s) (needs {want}: {what})"
        )
    return arch  # type: ignore[return-value]


@dataclass(frozen=True)
class SearchSpace:
    """M_i taps of modality i (`taps`, one entry per modality, 2 or more), P nonlinearities,
    at most L fusion layers, O fusion operators (`ops`; a layer has the field o only when
    O > 1)."""

    taps: tuple[int, ...]
    p: int
    max_layers: int
    ops: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "taps", tuple(int(t) for t in self.taps))
        if len(self.taps) < 2:
            raise ValueError(f"search space: needs 2 or more modalities, got taps {self.taps}")
        for i, t in enumerate(self.taps, 1):
            if t < 1:
                raise ValueError(f"search space: taps of modality {i} must be >= 1, got {t}")
        for name in ("p", "max_layers", "ops"):
            if getattr(self, name) < 1:
                raise ValueError(f"search space: {name} must be >= 1, got {getattr(self, name)}")

    @property
    def n_modalities(self) -> int:
        return len(self.taps)

    @property
    def bounds(self) -> tuple[int, ...]:
        """The upper bound of each field of a layer: (M_1, …, M_N, P[, O])."""
        return (*self.taps, self.p) + ((self.ops,) if self.ops > 1 else ())

    @property
    def n_triples(self) -> int:
        """M_1·…·M_N·P·O: the choices for one fusion layer."""
        return math.prod(self.bounds)

    def size(self, layers: int | None = None) -> int:
        """(M_1·…·M_N·P·O)^L, the paper's count (O = 1) of architectures with L layers."""
        return self.n_triples ** (self.max_layers if layers is None else layers)

    def triples(self) -> list[Layer]:
        """Every layer (t_1, …, t_N, p[, o]), 1-based, in lexicographic order."""
        return list(itertools.product(*(range(1, t + 1) for t in self.bounds)))

    def level_one(self) -> list[Arch]:
        """Γ1: every one-layer architecture."""
        return [(t,) for t in self.triples()]

    def extend(self, archs: list[Arch]) -> list[Arch]:
        """Every architecture obtained by appending one layer to one of `archs` (no repeats)."""
        seen: dict[Arch, None] = {}
        for a in archs:
            if len(a) >= self.max_layers:
                raise ValueError(f"{arch_to_text(a)}: already has L={self.max_layers} layers")
            for t in self.triples():
                seen.setdefault(tuple(a) + (t,), None)
        return list(seen)

    def random_arch(self, rng: np.random.Generator, layers: int) -> Arch:
        """A uniformly random architecture with `layers` fusion layers (per layer one draw per
        field, modality 1 first, then p, then o)."""
        return tuple(tuple(int(rng.integers(1, t + 1)) for t in self.bounds) for _ in range(layers))

    def check(self, arch: Arch) -> None:
        """Raise ValueError if `arch` is not in this space."""
        if not 1 <= len(arch) <= self.max_layers:
            raise ValueError(f"{arch_to_text(arch)}: needs 1..{self.max_layers} layers")
        bounds = self.bounds
        for layer in arch:
            if len(layer) != len(bounds) or not all(
                1 <= v <= b for v, b in zip(layer, bounds, strict=True)
            ):
                names = ("M", "N") if len(self.taps) == 2 else [f"M{i}" for i in range(1, 9)]
                limits = ", ".join(f"{m}={t}" for m, t in zip(names, self.taps, strict=False))
                raise ValueError(
                    f"{arch_to_text(arch)}: layer {tuple(layer)} is outside {limits}, P={self.p}"
                    + (f", O={self.ops}" if self.ops > 1 else "")
                )


def check_nonlinearities(names: list[str]) -> list[str]:
    """Validate the configured nonlinearity names (index p-1 of the list is nonlinearity p)."""
    unknown = [x for x in names if x not in NONLINEARITIES]
    if unknown:
        raise ValueError(f"search.nonlinearities: unknown {unknown}; known: {list(NONLINEARITIES)}")
    if not names or len(set(names)) != len(names):
        raise ValueError(f"search.nonlinearities: needs distinct names, got {names}")
    return list(names)


def check_fusion_ops(names: list[str]) -> list[str]:
    """Validate the configured fusion operators (index o-1 of the list is operator o)."""
    unknown = [x for x in names if x not in FUSION_OPS]
    if unknown:
        raise ValueError(f"search.fusion_ops: unknown {unknown}; known: {list(FUSION_OPS)}")
    if not names or len(set(names)) != len(names):
        raise ValueError(f"search.fusion_ops: needs distinct names, got {names}")
    return list(names)
