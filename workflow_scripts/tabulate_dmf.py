from mfas_core.io import rule_log
from mfas_core.report.dmf_tables import write_dataset_table

with rule_log(snakemake):
    write_dataset_table(list(snakemake.input.metrics), snakemake.output[0])
