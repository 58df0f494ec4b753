from mfas_core.io import rule_log
from mfas_core.report.dmf_tables import write_mnist_table

with rule_log(snakemake):
    write_mnist_table(list(snakemake.input.metrics), snakemake.output[0])
