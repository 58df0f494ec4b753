from mfas_core.report.dmf_tables import write_retrieval_table
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    write_retrieval_table(
        list(snakemake.input.retrieval), list(snakemake.input.baselines), snakemake.output[0]
    )
