"""Rule train_backbone: train one modality's backbone (see mfas_core.backbones)."""

from mfas_core.backbones import run_train_backbone
from mfas_core.io import rule_log

with rule_log(snakemake):
    run_train_backbone(
        snakemake.input.data,
        snakemake.output.model,
        snakemake.output.metrics,
        threads=snakemake.threads,
        **snakemake.params,
    )
