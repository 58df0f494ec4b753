"""Rule final_train: train one found architecture to the end (mfas_core.final.train)."""

from mfas_core.final.train import run_final_train
from mfas_core.io import rule_log

with rule_log(snakemake):
    run_final_train(
        list(snakemake.input.features),
        snakemake.input.topk,
        snakemake.output.metrics,
        data=snakemake.input.data[0] if snakemake.input.data else None,
        backbones=list(snakemake.input.backbones) or None,
        threads=snakemake.threads,
        **snakemake.params,
    )
