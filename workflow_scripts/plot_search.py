"""Rule plot_search: paper Fig. 5 for one search (val error and temperature per step)."""

from mfas_core.report.plots import plot_search
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    plot_search(list(snakemake.input.candidates), snakemake.output.plot, **snakemake.params)
