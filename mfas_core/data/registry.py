"""Every dataset kind the workflow knows, by the name the config's `kind` uses."""

from __future__ import annotations

from mfas_core.data import avmnist, byo, halves, mfeat
from mfas_core.data.kinds import DatasetKind

KINDS: dict[str, DatasetKind] = {
    k.name: k for k in (avmnist.KIND, halves.KIND, mfeat.KIND, *byo.KINDS)
}


def get_kind(name: str) -> DatasetKind:
    """The kind called `name`; KeyError naming the known kinds otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown dataset kind {name!r}; known: {sorted(KINDS)}") from None
