"""Rule measure_final_cost: FLOPs and latency of every final model of a dataset, one process
(mfas_core.final.cost)."""

from mfas_core.final.cost import measure_costs
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    measure_costs(
        list(snakemake.input.models),
        list(snakemake.input.metrics),
        list(snakemake.input.features),
        snakemake.output.cost,
        threads=snakemake.threads,
        **snakemake.params,
    )
