from mfas_core.dmf.evaluate import evaluate_baselines
from mfas_core.io import rule_log

with rule_log(snakemake):
    evaluate_baselines(
        snakemake.input.data,
        snakemake.output[0],
        threads=snakemake.threads,
        **snakemake.params,
    )
