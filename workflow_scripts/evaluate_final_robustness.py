"""Rule evaluate_final_robustness: every final model of a dataset scored on the clean and the
perturbed test taps, one metrics file (mfas_core.final.robustness)."""

from mfas_core.final.robustness import evaluate_robustness
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    evaluate_robustness(
        list(snakemake.input.models),
        list(snakemake.input.metrics),
        list(snakemake.input.features),
        list(snakemake.input.perturbed),
        snakemake.output.metrics,
        threads=snakemake.threads,
        **snakemake.params,
    )
