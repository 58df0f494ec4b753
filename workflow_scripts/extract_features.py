"""Rule extract_features: cache every tap of a frozen backbone in HDF5 (mfas_core.features)."""

from mfas_core.features import extract_features
from mfas_core.io import rule_log

with rule_log(snakemake):
    extract_features(
        snakemake.input.data,
        snakemake.input.model,
        snakemake.output.features,
        threads=snakemake.threads,
        **snakemake.params,
    )
