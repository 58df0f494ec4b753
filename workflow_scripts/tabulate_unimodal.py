"""Rule tabulate_unimodal: backbone scores beside the paper's (mfas_core.unimodal.backbones)."""

from mfas_core.report.tables import unimodal_table
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    unimodal_table(list(snakemake.input.metrics), snakemake.output.table)
