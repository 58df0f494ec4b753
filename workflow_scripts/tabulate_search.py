"""Rule tabulate_search: results/tables/search.md (MFAS vs random search vs paper Table 1)."""

from mfas_core.report.tables import search_table
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    search_table(
        list(snakemake.input.topk),
        list(snakemake.input.levels),
        list(snakemake.input.random),
        snakemake.output.table,
        final_metrics=list(snakemake.input.final),
        baseline_metrics=list(snakemake.input.baselines),
        **snakemake.params,
    )
