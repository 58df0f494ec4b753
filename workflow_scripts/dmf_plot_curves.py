from mfas_core.dmf_report import plot_curves
from mfas_core.io import rule_log

with rule_log(snakemake):
    plot_curves(list(snakemake.input.metrics), snakemake.output[0])
