"""Rule tabulate_final_robustness: results/tables/robustness_<dataset>.md and .tsv
(mfas_core.report.robustness)."""

from mfas_core.report.robustness import robustness_table
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    robustness_table(
        snakemake.input.metrics, snakemake.output.table, snakemake.output.tsv, **snakemake.params
    )
