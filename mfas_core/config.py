"""Config helpers shared by the Snakefile and the tests: schema defaults and dataset instances.

The JSON schema in config/schema.yaml is the one source of defaults; Snakemake's
`validate` fills the top-level sections, and `dataset_instances` fills each dataset entry
(defaults under `additionalProperties` are not filled by the validator).
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "config" / "schema.yaml"

# Modality names (in order: modality 1 has M taps, modality 2 has N taps) per dataset kind.
DEFAULT_MODALITIES = {
    "avmnist": ["audio", "image"],
    "avmnist_npy": ["audio", "image"],
    "mnist_halves": ["left", "right"],
    "mmimdb": ["image", "text"],
}

# Backbone per modality when the config names none: conv nets for images and spectrograms
# (REFERENCE §1: 5 audio blocks, 3 image blocks), an MLP for vectors.
DEFAULT_BACKBONES = {
    "avmnist": {
        "audio": {"type": "conv", "blocks": 5, "channels": 3},
        "image": {"type": "conv", "blocks": 3, "channels": 3},
    },
    "avmnist_npy": {
        "audio": {"type": "conv", "blocks": 5, "channels": 3},
        "image": {"type": "conv", "blocks": 3, "channels": 3},
    },
    "mfeat": {
        "pix": {"type": "conv", "blocks": 3, "channels": 8},
    },
}
DEFAULT_MLP = {"type": "mlp", "hidden": [256, 128, 64]}

# Paper sizes (MFAS §4: 55,000 train / 5,000 val / 10,000 test; DMF uses MNIST's 50k/10k/10k).
DEFAULT_SIZES = {
    "avmnist": {"n_train": 55000, "n_val": 5000, "n_test": 10000},
    "mnist_halves": {"n_train": 50000, "n_val": 10000, "n_test": 10000},
}


def load_schema(path: str | Path = SCHEMA_PATH) -> dict:
    """The config JSON schema as a dict."""
    with open(path) as fh:
        return yaml.safe_load(fh)


def dataset_defaults(schema: dict | None = None) -> dict:
    """Defaults declared for a dataset entry in the schema."""
    schema = schema or load_schema()
    props = schema["properties"]["datasets"]["additionalProperties"]["properties"]
    return {k: copy.deepcopy(v["default"]) for k, v in props.items() if "default" in v}


def _hdf5_modalities(path: str) -> list[str]:
    """Modality names recorded in a bring-your-own dataset file (attrs/modalities)."""
    import json
    import os

    os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return list(json.loads(f.attrs["modalities"]))
    except (OSError, KeyError, ValueError):
        return ["a", "b"]  # the loader reports what is wrong with the file, naming it


def damage_suffix(level: float) -> str:
    """Instance suffix for a damage level: 0.3 -> 'd30'."""
    return f"d{round(level * 100)}"


def dataset_instances(config: dict, schema: dict | None = None) -> dict[str, dict]:
    """Every dataset file the workflow builds: instance name -> complete spec.

    A `mnist_halves` entry named X with damage levels [0, 0.3] becomes X_d0 and X_d30, each
    with a scalar `damage`. Specs are plain builtins, ready for `params:`.
    """
    defaults = dataset_defaults(schema)
    out: dict[str, dict] = {}
    for name, entry in config["datasets"].items():
        kind = entry["kind"]
        spec = {"name": name, **copy.deepcopy(defaults), **DEFAULT_SIZES.get(kind, {})}
        spec.update(copy.deepcopy(entry))
        if kind == "mfeat":
            spec.setdefault("modalities", list(spec["views"]))
        if kind == "hdf5" and "modalities" not in spec and Path(spec.get("path", "")).is_file():
            spec["modalities"] = _hdf5_modalities(spec["path"])
        spec.setdefault("modalities", DEFAULT_MODALITIES.get(kind, ["a", "b"]))
        backbones = copy.deepcopy(DEFAULT_BACKBONES.get(kind, {}))
        backbones.update(spec.get("backbones", {}))
        spec["backbones"] = {m: backbones.get(m, dict(DEFAULT_MLP)) for m in spec["modalities"]}
        if kind == "mnist_halves":
            for level in spec.pop("damage_levels"):
                inst = f"{name}_{damage_suffix(level)}"
                out[inst] = {**copy.deepcopy(spec), "name": inst, "group": name, "damage": level}
        else:
            spec.pop("damage_levels", None)
            out[name] = {**spec, "group": name}
    return out


def instances_of(group_or_name: str, instances: dict[str, dict]) -> list[str]:
    """Instance names of a config dataset entry (all damage levels of a mnist_halves entry)."""
    found = [k for k, v in instances.items() if v["group"] == group_or_name or k == group_or_name]
    if not found:
        raise KeyError(f"config: dataset {group_or_name!r} is not defined under `datasets`")
    return found


def n_taps(backbone: dict) -> int:
    """Number of searchable features (taps) a backbone spec exposes: one per block/layer."""
    if backbone["type"] == "conv":
        return int(backbone.get("blocks", 3))
    return len(backbone.get("hidden", DEFAULT_MLP["hidden"]))


class ConfigError(ValueError):
    """A config value the schema cannot express a rule for; message names the key."""


def check_config(config: dict, instances: dict[str, dict], source: str = "config") -> None:
    """Cross-field checks beyond the JSON schema; raise ConfigError naming the key."""
    for name, spec in config["datasets"].items():
        if spec["kind"] in ("hdf5", "avmnist_npy", "mmimdb") and not spec.get("path"):
            raise ConfigError(f"{source}: datasets.{name}.path: required for kind {spec['kind']}")
    for section in ("search", "dmf"):
        for ds in config[section]["datasets"]:
            if not any(v["group"] == ds or k == ds for k, v in instances.items()):
                raise ConfigError(f"{source}: {section}.datasets: {ds!r} is not under `datasets`")
    s = config["search"]
    if s["t_min"] > s["t_max"]:
        raise ConfigError(f"{source}: search.t_min: {s['t_min']} is larger than t_max {s['t_max']}")
    for ds in s["datasets"]:
        for inst in instances_of(ds, instances):
            m1, m2 = instances[inst]["modalities"]
            bb = instances[inst]["backbones"]
            pool = n_taps(bb[m1]) * n_taps(bb[m2]) * len(s["nonlinearities"])
            if s["k"] > pool:
                raise ConfigError(
                    f"{source}: search.k: {s['k']} is larger than the {pool} one-layer "
                    f"architectures of {inst}"
                )
    for ds in config["dmf"]["datasets"]:
        for inst in instances_of(ds, instances):
            if instances[inst]["kind"] == "mmimdb":
                raise ConfigError(
                    f"{source}: dmf.datasets: {ds!r} is multi-label; DMF needs single-label"
                )
