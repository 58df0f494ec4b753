from mfas_core.io import rule_log
from mfas_core.report.dmf_tables import write_svm_table

with rule_log(snakemake):
    write_svm_table(
        list(snakemake.input.svm),
        list(snakemake.input.baselines),
        list(snakemake.input.disc),
        snakemake.output[0],
    )
