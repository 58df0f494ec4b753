from mfas_core.data.prepare import prepare_dataset
from mfas_core.io import rule_log

with rule_log(snakemake):
    prepare_dataset(snakemake.output.data, **snakemake.params)
