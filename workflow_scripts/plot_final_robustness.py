"""Rule plot_final_robustness: results/plots/robustness_<dataset>.png
(mfas_core.report.robustness)."""

from mfas_core.report.robustness import plot_robustness
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    plot_robustness(snakemake.input.metrics, snakemake.output.plot, **snakemake.params)
