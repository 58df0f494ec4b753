from mfas_core.dmf_report import write_retrieval_table
from mfas_core.io import rule_log

with rule_log(snakemake):
    write_retrieval_table(list(snakemake.input.retrieval), snakemake.output[0])
