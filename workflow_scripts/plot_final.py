"""Rule plot_final: test score vs parameters per method (mfas_core.report.final_plots)."""

from mfas_core.report.final_plots import plot_final
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    plot_final(
        list(snakemake.input.mfas) + list(snakemake.input.baselines),
        snakemake.output.plot,
        **snakemake.params,
    )
