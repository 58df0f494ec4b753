"""Which final-training runs a config asks for (rules/common.smk calls these)."""

from __future__ import annotations

from mfas_core.config import ConfigError, instances_of


def final_datasets(
    names: list[str], search_datasets: list[str], instances: dict[str, dict]
) -> list[str]:
    """Instances to final-train: of `final.datasets`, the searched ones, in search order.

    Final training needs a search's topk.tsv. A user's config is merged over the default
    config, so a config that searches only its own dataset still inherits the default's
    `final.datasets`: those entries are skipped, not an error. A name that is not under
    `datasets` at all is a ConfigError."""
    named: set[str] = set()
    for name in names:
        try:
            named.update(instances_of(name, instances))
        except KeyError:
            raise ConfigError(f"config: final.datasets: {name!r} is not under `datasets`") from None
    return [d for d in search_datasets if d in named]


def methods(baselines: list[str], modalities: list[str]) -> list[str]:
    """Baseline method names of a dataset (`unimodal` -> one per modality)."""
    out = []
    for m in baselines:
        out += [f"unimodal_{mod}" for mod in modalities] if m == "unimodal" else [m]
    return out
