"""Rule train_final_baseline: train one fusion baseline on the cached taps, once per training seed,
all seeds in one process (mfas_core.final.train)."""

from mfas_core.final.train import run_final_baseline
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    params = dict(snakemake.params)
    seeds = params.pop("seeds")
    outputs = zip(seeds, snakemake.output.metrics, snakemake.output.model, strict=True)
    for seed, metrics, model in outputs:
        run_final_baseline(
            list(snakemake.input.features),
            metrics,
            seed=seed,
            model_out=model,
            threads=snakemake.threads,
            **params,
        )
