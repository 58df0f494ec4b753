from mfas_core.io import rule_log
from mfas_core.report.dmf_tables import write_retrieval_table

with rule_log(snakemake):
    write_retrieval_table(
        list(snakemake.input.retrieval), list(snakemake.input.baselines), snakemake.output[0]
    )
