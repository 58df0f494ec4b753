from mfas_core.dmf_report import write_svm_table
from mfas_core.io import rule_log

with rule_log(snakemake):
    write_svm_table(list(snakemake.input.svm), list(snakemake.input.disc), snakemake.output[0])
