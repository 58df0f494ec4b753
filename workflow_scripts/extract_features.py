"""Rule extract_features: cache every tap of a frozen backbone in HDF5 (mfas_core.unimodal.features)."""

from mfas_core.rule_log import rule_log
from mfas_core.unimodal.features import extract_features

with rule_log(snakemake):
    extract_features(
        snakemake.input.data,
        snakemake.input.model,
        snakemake.output.features,
        threads=snakemake.threads,
        **snakemake.params,
    )
