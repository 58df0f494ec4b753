from mfas_core.data.prepare import prepare_dataset
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    prepare_dataset(snakemake.output.data, **snakemake.params)
