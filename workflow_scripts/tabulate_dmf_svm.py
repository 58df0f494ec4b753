from mfas_core.report.dmf_tables import write_svm_table
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    write_svm_table(
        list(snakemake.input.svm),
        list(snakemake.input.baselines),
        list(snakemake.input.disc),
        snakemake.output[0],
    )
