"""Rule search_random: the equal-budget random-search baseline (see mfas_core.search)."""

from mfas_core.io import rule_log
from mfas_core.search.random import run_random_search

with rule_log(snakemake):
    run_random_search(
        list(snakemake.input.features),
        snakemake.output.candidates,
        threads=snakemake.threads,
        **snakemake.params,
    )
