"""Rule plot_architectures: a diagram of each top architecture of one search
(mfas_core.report.arch_plot)."""

from mfas_core.report.arch_plot import plot_architectures
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    plot_architectures(
        snakemake.input.topk,
        list(snakemake.input.features),
        list(snakemake.output.svgs),
        **snakemake.params,
    )
