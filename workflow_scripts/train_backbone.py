"""Rule train_backbone: train one modality's backbone (see mfas_core.unimodal.backbones)."""

from mfas_core.rule_log import rule_log
from mfas_core.unimodal.backbones import run_train_backbone

with rule_log(snakemake):
    run_train_backbone(
        snakemake.input.data,
        snakemake.output.model,
        snakemake.output.metrics,
        threads=snakemake.threads,
        **snakemake.params,
    )
