"""Rule train_dmf: train one EMF / IMF / DMF network per seed, all seeds in one process
(mfas_core.dmf.train)."""

from mfas_core.dmf.train import train_dmf
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    params = dict(snakemake.params)
    seeds = params.pop("seeds")
    settings = params.pop("settings")
    outputs = zip(seeds, snakemake.output.model, snakemake.output.metrics, strict=True)
    for seed, model, metrics in outputs:
        train_dmf(
            snakemake.input.data,
            model,
            metrics,
            seed=seed,
            threads=snakemake.threads,
            **params,
            **settings,
        )
