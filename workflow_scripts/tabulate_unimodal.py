"""Rule tabulate_unimodal: backbone scores beside the paper's (mfas_core.backbones)."""

from mfas_core.backbones import unimodal_table
from mfas_core.io import rule_log

with rule_log(snakemake):
    unimodal_table(list(snakemake.input.metrics), snakemake.output.table)
