"""Rule plot_top1_architecture: the diagram of a dataset's MFAS top 1, chosen on final
validation scores (mfas_core.report.arch_plot)."""

from mfas_core.report.arch_plot import plot_top1_architecture
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    plot_top1_architecture(
        list(snakemake.input.mfas),
        list(snakemake.input.features),
        snakemake.output.svg,
        **snakemake.params,
    )
