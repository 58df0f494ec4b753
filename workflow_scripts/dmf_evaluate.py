from mfas_core.dmf.evaluate import evaluate_encdec
from mfas_core.io import rule_log

with rule_log(snakemake):
    evaluate_encdec(
        snakemake.input.model,
        snakemake.input.data,
        snakemake.output[0],
        threads=snakemake.threads,
        **snakemake.params,
    )
