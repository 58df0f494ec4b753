"""Dataset instances: the config's `datasets:` entries completed with their kind's defaults.

A `mnist_halves` entry becomes one instance per damage level; every instance is a complete,
plain-builtin spec, ready to reach a rule through `params:`.
"""

from __future__ import annotations

import copy
from pathlib import Path

from mfas_core.config import ConfigError, damage_suffix, dataset_defaults
from mfas_core.data.kinds import DEFAULT_MLP
from mfas_core.data.registry import get_kind


def _hdf5_modalities(path: str) -> list[str]:
    """Modality names recorded in a bring-your-own dataset file (attrs/modalities)."""
    import json

    import h5py

    try:
        with h5py.File(path, "r") as f:
            return list(json.loads(f.attrs["modalities"]))
    except (OSError, KeyError, ValueError):
        return ["a", "b"]  # the loader reports what is wrong with the file, naming it


def _sorted_keys(obj):
    """obj with every mapping's keys in sorted order (lists keep theirs), so that `params:`
    built from it do not depend on the order keys were written in the YAML: Snakemake
    compares params by their text, and a reordered entry would re-run its jobs."""
    if isinstance(obj, dict):
        return {k: _sorted_keys(obj[k]) for k in sorted(obj)}
    if isinstance(obj, list):
        return [_sorted_keys(v) for v in obj]
    return obj


def dataset_instances(config: dict, schema: dict | None = None) -> dict[str, dict]:
    """Every dataset file the workflow builds: instance name -> complete spec.

    A `mnist_halves` entry named X with damage levels [0, 0.3] becomes X_d0 and X_d30, each
    with a scalar `damage`. Specs are plain builtins, ready for `params:`.
    """
    defaults = dataset_defaults(schema)
    out: dict[str, dict] = {}
    for name, entry in config["datasets"].items():
        kind = get_kind(entry["kind"])
        if "path" in kind.required and not entry.get("path"):
            raise ConfigError(f"config: datasets.{name}.path: required for kind {kind.name}")
        spec = {"name": name, **copy.deepcopy(defaults), **copy.deepcopy(kind.sizes)}
        spec.update(copy.deepcopy(entry))
        if kind.name == "mfeat":
            spec.setdefault("modalities", list(spec["views"]))
        if (
            kind.name == "hdf5"
            and "modalities" not in spec
            and Path(spec.get("path", "")).is_file()
        ):
            spec["modalities"] = _hdf5_modalities(spec["path"])
        spec.setdefault("modalities", list(kind.modalities) or ["a", "b"])
        known = kind.name != "hdf5" or "modalities" in entry or Path(spec["path"]).is_file()
        stray = sorted(set(entry.get("backbones", {})) - set(spec["modalities"]))
        if known and stray:
            raise ConfigError(
                f"config: datasets.{name}.backbones.{stray[0]}: not a modality of "
                f"{name} (modalities {spec['modalities']})"
            )
        backbones = copy.deepcopy(kind.backbones)
        backbones.update(spec.get("backbones", {}))
        # Modality order is meaningful (it is spec["modalities"]); within a backbone it is not.
        spec["backbones"] = {
            m: _sorted_keys(backbones.get(m, dict(DEFAULT_MLP))) for m in spec["modalities"]
        }
        spec = {k: spec[k] if k == "backbones" else _sorted_keys(spec[k]) for k in sorted(spec)}
        if kind.damage_levels:
            for level in spec.pop("damage_levels"):
                inst = f"{name}_{damage_suffix(level)}"
                out[inst] = {**copy.deepcopy(spec), "name": inst, "group": name, "damage": level}
        else:
            spec.pop("damage_levels", None)
            out[name] = {**spec, "group": name}
    return out
