"""Shared ground: the config schema, its defaults, and the cross-field checks of a config.

The JSON schema in mfas_core/schema.yaml (shipped inside the package, so a plain
`pip install .` has it) is the one source of defaults; Snakemake's
`validate` fills the top-level sections, and `mfas_core.data.instances.dataset_instances`
fills each dataset entry (defaults under `additionalProperties` are not filled by the validator).
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

SCHEMA_PATH = Path(__file__).resolve().parent / "schema.yaml"


def load_schema(path: str | Path = SCHEMA_PATH) -> dict:
    """The config JSON schema as a dict."""
    with open(path) as fh:
        return yaml.safe_load(fh)


def dataset_defaults(schema: dict | None = None) -> dict:
    """Defaults declared for a dataset entry in the schema."""
    schema = schema or load_schema()
    props = schema["properties"]["datasets"]["additionalProperties"]["properties"]
    return {k: copy.deepcopy(v["default"]) for k, v in props.items() if "default" in v}


def damage_suffix(level: float) -> str:
    """Instance suffix for a damage level: 0.3 -> 'd30'."""
    return f"d{round(level * 100)}"


def instances_of(group_or_name: str, instances: dict[str, dict]) -> list[str]:
    """Instance names of a config dataset entry (all damage levels of a mnist_halves entry)."""
    found = [k for k, v in instances.items() if v["group"] == group_or_name or k == group_or_name]
    if not found:
        raise KeyError(f"config: dataset {group_or_name!r} is not defined under `datasets`")
    return found


DEFAULT_MLP_LAYERS = 3  # layers of the default MLP backbone (data.kinds.DEFAULT_MLP)


def n_taps(backbone: dict) -> int | None:
    """Number of searchable features (taps) a backbone spec exposes: one per block/layer, or
    per named tap (None: a precomputed modality without `taps`, known from its file only)."""
    if backbone["type"] in ("module", "torchvision", "precomputed"):
        return len(backbone["taps"]) if backbone.get("taps") else None
    if backbone["type"] == "conv":
        return int(backbone.get("blocks", 3))
    return len(backbone.get("hidden", [None] * DEFAULT_MLP_LAYERS))


class ConfigError(ValueError):
    """A config value the schema cannot express a rule for; message names the key."""


def check_config(config: dict, instances: dict[str, dict], source: str = "config") -> None:
    """Cross-field checks beyond the JSON schema; raise ConfigError naming the key."""
    for section in ("search", "dmf"):
        for ds in config[section]["datasets"]:
            if not any(v["group"] == ds or k == ds for k, v in instances.items()):
                raise ConfigError(f"{source}: {section}.datasets: {ds!r} is not under `datasets`")
    for key in ("max_train", "encdec_max_train"):
        cap = config["dmf"][key]
        for ds in cap if isinstance(cap, dict) else ():
            if ds not in config["datasets"]:
                raise ConfigError(f"{source}: dmf.{key}.{ds}: not a dataset under `datasets`")
    s = config["search"]
    if s["t_min"] > s["t_max"]:
        raise ConfigError(f"{source}: search.t_min: {s['t_min']} is larger than t_max {s['t_max']}")
    for ds in s["datasets"]:
        for inst in instances_of(ds, instances):
            bb = instances[inst]["backbones"]
            counts = [n_taps(bb[m]) for m in instances[inst]["modalities"]]
            if None in counts:  # a precomputed modality's taps are known from its file only
                continue
            pool = len(s["nonlinearities"])
            for count in counts:
                pool *= count
            if s["k"] > pool:
                raise ConfigError(
                    f"{source}: search.k: {s['k']} is larger than the {pool} one-layer "
                    f"architectures of {inst}"
                )


def check_finetune(config: dict, final_datasets: list[str], instances: dict[str, dict]) -> None:
    """Phase 2 fine-tunes backbones: refused (ConfigError) for a precomputed modality."""
    if config["final"]["finetune_epochs"] <= 0:
        return
    for ds in final_datasets:
        for m, spec in instances[ds]["backbones"].items():
            if spec["type"] == "precomputed":
                raise ConfigError(
                    f"config: final.finetune_epochs: phase 2 fine-tunes the backbones, but "
                    f"datasets.{instances[ds]['group']}.backbones.{m} is precomputed (no "
                    "network to unfreeze); set final.finetune_epochs to 0"
                )
