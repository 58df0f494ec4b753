"""Rule search_random: the random-search baseline of the MFAS paper (see mfas_core.search)."""

from mfas_core.rule_log import rule_log
from mfas_core.search.random import run_random_search
from mfas_core.search.settings import RandomSearchSettings

with rule_log(snakemake):
    run_random_search(
        list(snakemake.input.features),
        snakemake.output.candidates,
        RandomSearchSettings.from_params(**snakemake.params.settings),
        threads=snakemake.threads,
    )
