from mfas_core.report.plots import plot_curves
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    plot_curves(list(snakemake.input.metrics), snakemake.output[0])
