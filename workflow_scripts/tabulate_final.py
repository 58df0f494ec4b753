"""Rule tabulate_final: results/tables/final_<dataset>.md and .tsv (mfas_core.report.final_tables)."""

from mfas_core.report.final_tables import final_table
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    final_table(
        list(snakemake.input.mfas) + list(snakemake.input.baselines),
        list(snakemake.input.backbones),
        snakemake.output.table,
        snakemake.output.tsv,
        cost=snakemake.input.cost,
        **snakemake.params,
    )
