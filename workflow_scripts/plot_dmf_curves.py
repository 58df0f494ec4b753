from mfas_core.io import rule_log
from mfas_core.report.plots import plot_curves

with rule_log(snakemake):
    plot_curves(list(snakemake.input.metrics), snakemake.output[0])
