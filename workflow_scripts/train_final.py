"""Rule train_final: train one found architecture to the end, once per training seed, all
seeds in one process (mfas_core.final.train)."""

from mfas_core.final.train import run_final_train
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    params = dict(snakemake.params)
    seeds = params.pop("seeds")
    outputs = zip(seeds, snakemake.output.metrics, snakemake.output.model, strict=True)
    for seed, metrics, model in outputs:
        run_final_train(
            list(snakemake.input.features),
            snakemake.input.topk,
            metrics,
            seed=seed,
            model_out=model,
            data=snakemake.input.data[0] if snakemake.input.data else None,
            backbones=list(snakemake.input.backbones) or None,
            threads=snakemake.threads,
            **params,
        )
