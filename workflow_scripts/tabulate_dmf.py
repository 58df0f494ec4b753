from mfas_core.report.dmf_tables import write_dataset_table
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    write_dataset_table(list(snakemake.input.metrics), snakemake.output[0])
