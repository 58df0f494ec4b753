"""Rule plot_final: test score vs parameters per method (mfas_core.report.final_plots)."""

from mfas_core.io import rule_log
from mfas_core.report.final_plots import plot_final

with rule_log(snakemake):
    plot_final(
        list(snakemake.input.mfas) + list(snakemake.input.baselines),
        snakemake.output.plot,
        **snakemake.params,
    )
