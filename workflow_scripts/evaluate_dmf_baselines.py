"""Rule evaluate_dmf_baselines: raw-input SVM / PCA / CCA / cosine baselines, every seed
(mfas_core.dmf.evaluate)."""

from mfas_core.dmf.evaluate import evaluate_baselines
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    params = dict(snakemake.params)
    seeds = params.pop("seeds")
    settings = params.pop("settings")
    for seed, out in zip(seeds, snakemake.output, strict=True):
        evaluate_baselines(
            snakemake.input.data,
            out,
            seed=seed,
            threads=snakemake.threads,
            **params,
            **settings,
        )
