"""Rule plot_final_flops: test score vs FLOPs per method, Pareto front marked (mfas_core.report.final_plots)."""

from mfas_core.report.final_plots import plot_final_flops
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    plot_final_flops(
        list(snakemake.input.mfas) + list(snakemake.input.baselines),
        snakemake.input.cost,
        snakemake.output.plot,
        **snakemake.params,
    )
