from mfas_core.dmf.evaluate import evaluate_svm
from mfas_core.io import rule_log

with rule_log(snakemake):
    evaluate_svm(
        snakemake.input.model,
        snakemake.input.data,
        snakemake.output[0],
        threads=snakemake.threads,
        **snakemake.params,
    )
