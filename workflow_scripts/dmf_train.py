from mfas_core.dmf.train import train_dmf
from mfas_core.io import rule_log

with rule_log(snakemake):
    train_dmf(
        snakemake.input.data,
        snakemake.output.model,
        snakemake.output.metrics,
        threads=snakemake.threads,
        **snakemake.params,
    )
