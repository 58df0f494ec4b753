"""Rule extract_perturbed_features: the test split of one modality missing or noisy, through
its frozen backbone to the cached taps, one file per perturbation (mfas_core.final.robustness)."""

from mfas_core.final.robustness import extract_perturbed_features
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    extract_perturbed_features(
        snakemake.input.data,
        snakemake.input.model,
        list(snakemake.output.features),
        threads=snakemake.threads,
        **snakemake.params,
    )
