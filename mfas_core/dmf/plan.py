"""Which DMF runs a config asks for: the dataset instances of each table and variant.

Rules call these from their input functions (rules/common.smk); the decisions live here so
that they are unit-tested without a workflow run.
"""

from __future__ import annotations

from mfas_core.config import damage_suffix
from mfas_core.data.registry import get_kind


def multi_label(spec: dict) -> bool:
    """A multi-label kind (MM-IMDB): DMF runs its encoder-decoder variant only on it."""
    return get_kind(spec["kind"]).multi_label


def disc_datasets(dmf_datasets: list[str], instances: dict[str, dict]) -> list[str]:
    """Instances that get the discriminative variant: every single-label one (a multi-label
    dataset has no class to predict; the paper scores it through the encoder-decoder's code,
    one linear SVM per label)."""
    return [d for d in dmf_datasets if not multi_label(instances[d])]


def mnist_datasets(dmf_datasets: list[str], instances: dict[str, dict]) -> list[str]:
    """DMF instances of mnist_halves entries (the rows of paper Table 1)."""
    return [d for d in dmf_datasets if instances[d]["kind"] == "mnist_halves"]


def encdec_datasets(
    dmf_datasets: list[str], instances: dict[str, dict], damage_levels: list[float]
) -> list[str]:
    """Instances that get the encoder-decoder variant (SVM and retrieval).

    Every non-mnist_halves instance; of each mnist_halves entry the damage levels listed in
    `damage_levels` (dmf.encdec_damage_levels), or its lowest level if none of them is there.
    """
    wanted = {damage_suffix(level) for level in damage_levels}
    out, groups = [], {}
    for d in dmf_datasets:
        spec = instances[d]
        if spec["kind"] != "mnist_halves":
            out.append(d)
        else:
            groups.setdefault(spec["group"], []).append(d)
    for members in groups.values():
        chosen = [d for d in members if damage_suffix(instances[d]["damage"]) in wanted]
        out += chosen or [min(members, key=lambda d: instances[d]["damage"])]
    return out


def tables(dmf_datasets: list[str], instances: dict[str, dict]) -> list[str]:
    """Discriminative tables: `mnist` (paper Table 1, every mnist_halves instance) and one per
    other DMF instance (results/tables/dmf_<name>.md)."""
    mnist = mnist_datasets(dmf_datasets, instances)
    rest = [d for d in disc_datasets(dmf_datasets, instances) if d not in mnist]
    return (["mnist"] if mnist else []) + rest


def table_datasets(table: str, dmf_datasets: list[str], instances: dict[str, dict]) -> list[str]:
    """The dataset instances one discriminative table covers."""
    return mnist_datasets(dmf_datasets, instances) if table == "mnist" else [table]
