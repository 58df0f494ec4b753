"""Rule final_baseline: train one fusion baseline on the cached taps (mfas_core.final.train)."""

from mfas_core.final.train import run_final_baseline
from mfas_core.io import rule_log

with rule_log(snakemake):
    run_final_baseline(
        list(snakemake.input.features),
        snakemake.output.metrics,
        threads=snakemake.threads,
        **snakemake.params,
    )
