"""Rule copy_features: a precomputed modality's feature cache, checked (mfas_core.unimodal.precomputed)."""

from mfas_core.rule_log import rule_log
from mfas_core.unimodal.precomputed import copy_features

with rule_log(snakemake):
    copy_features(snakemake.input.data, snakemake.output.features, **snakemake.params)
