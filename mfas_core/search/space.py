"""The MFAS search space (paper §3.1): architectures as sequences of (m, n, p) triples.

A fusion layer l is the triple γ_l = (m, n, p): tap m (1..M) of modality 1, tap n (1..N) of
modality 2 and nonlinearity p (1..P, an index into the configured list). An architecture is
1..L such triples. Its one canonical text form, used in every TSV and plot, joins the triples
with `_` and their fields with `-`: ((5, 3, 1), (4, 1, 2)) <-> "5-3-1_4-1-2".
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

NONLINEARITIES = ("relu", "sigmoid", "leakyrelu")

Triple = tuple[int, int, int]
Arch = tuple[Triple, ...]


def arch_to_text(arch: Arch) -> str:
    """Canonical text form: ((5, 3, 1), (4, 1, 2)) -> '5-3-1_4-1-2'."""
    return "_".join("-".join(str(int(v)) for v in t) for t in arch)


def text_to_arch(text: str) -> Arch:
    """Inverse of arch_to_text; raises ValueError on a malformed string."""
    try:
        arch = tuple(tuple(int(v) for v in part.split("-")) for part in str(text).split("_"))
    except ValueError:
        raise ValueError(
            f"architecture {text!r}: fields must be integers like '5-3-1_4-1-2'"
        ) from None
    if not arch or any(len(t) != 3 for t in arch):
        raise ValueError(f"architecture {text!r}: every layer needs three fields m-n-p")
    return arch  # type: ignore[return-value]


@dataclass(frozen=True)
class SearchSpace:
    """M taps of modality 1, N of modality 2, P nonlinearities, at most L fusion layers."""

    m: int
    n: int
    p: int
    max_layers: int

    def __post_init__(self) -> None:
        for name in ("m", "n", "p", "max_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"search space: {name} must be >= 1, got {getattr(self, name)}")

    @property
    def n_triples(self) -> int:
        """M·N·P: the choices for one fusion layer."""
        return self.m * self.n * self.p

    def size(self, layers: int | None = None) -> int:
        """(M·N·P)^L, the paper's count of architectures with L layers."""
        return self.n_triples ** (self.max_layers if layers is None else layers)

    def triples(self) -> list[Triple]:
        """Every (m, n, p) triple, 1-based, in lexicographic order."""
        return list(
            itertools.product(range(1, self.m + 1), range(1, self.n + 1), range(1, self.p + 1))
        )

    def level_one(self) -> list[Arch]:
        """Γ1: every one-layer architecture."""
        return [(t,) for t in self.triples()]

    def extend(self, archs: list[Arch]) -> list[Arch]:
        """Every architecture obtained by appending one triple to one of `archs` (no repeats)."""
        seen: dict[Arch, None] = {}
        for a in archs:
            if len(a) >= self.max_layers:
                raise ValueError(f"{arch_to_text(a)}: already has L={self.max_layers} layers")
            for t in self.triples():
                seen.setdefault(tuple(a) + (t,), None)
        return list(seen)

    def random_arch(self, rng: np.random.Generator, layers: int) -> Arch:
        """A uniformly random architecture with `layers` fusion layers."""
        return tuple(
            (
                int(rng.integers(1, self.m + 1)),
                int(rng.integers(1, self.n + 1)),
                int(rng.integers(1, self.p + 1)),
            )
            for _ in range(layers)
        )

    def check(self, arch: Arch) -> None:
        """Raise ValueError if `arch` is not in this space."""
        if not 1 <= len(arch) <= self.max_layers:
            raise ValueError(f"{arch_to_text(arch)}: needs 1..{self.max_layers} layers")
        for m, n, p in arch:
            if not (1 <= m <= self.m and 1 <= n <= self.n and 1 <= p <= self.p):
                raise ValueError(
                    f"{arch_to_text(arch)}: triple ({m}, {n}, {p}) is outside "
                    f"M={self.m}, N={self.n}, P={self.p}"
                )


def check_nonlinearities(names: list[str]) -> list[str]:
    """Validate the configured nonlinearity names (index p-1 of the list is nonlinearity p)."""
    unknown = [x for x in names if x not in NONLINEARITIES]
    if unknown:
        raise ValueError(f"search.nonlinearities: unknown {unknown}; known: {list(NONLINEARITIES)}")
    if not names or len(set(names)) != len(names):
        raise ValueError(f"search.nonlinearities: needs distinct names, got {names}")
    return list(names)
