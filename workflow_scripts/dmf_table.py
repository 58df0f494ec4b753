from mfas_core.dmf_report import write_mnist_table
from mfas_core.io import rule_log

with rule_log(snakemake):
    write_mnist_table(list(snakemake.input.metrics), snakemake.output[0])
