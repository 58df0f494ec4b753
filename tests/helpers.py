"""Settings as a rule would pass them: the schema's defaults, a test's overrides in config
keys, through the same `*_params` functions the rules call."""

from __future__ import annotations

from mfas_core.dmf.settings import eval_params
from mfas_core.dmf.settings import train_params as dmf_train_params
from mfas_core.settings import schema_defaults


def dmf_settings(variant: str, device: str = "cpu", **dmf) -> dict:
    """rule train_dmf's `settings` for `variant`, with `dmf:` config overrides."""
    cfg = schema_defaults("dmf") | dmf
    return dmf_train_params(cfg, variant, device)


def eval_settings(device: str = "cpu", **dmf) -> dict:
    """rules evaluate_dmf / evaluate_dmf_baselines' `settings`, with `dmf:` overrides."""
    return eval_params(schema_defaults("dmf") | dmf, device)


def workflow_config(workdir, *files: str) -> dict:
    """The config a run with `--configfile <files>` sees: the Snakefile's own
    config/config.yaml with each file merged over it, as Snakemake merges them."""
    from pathlib import Path

    import yaml
    from snakemake.utils import update_config

    cfg = yaml.safe_load((Path(workdir) / "config" / "config.yaml").read_text())
    for name in files:
        update_config(cfg, yaml.safe_load((Path(workdir) / "config" / name).read_text()))
    return cfg
