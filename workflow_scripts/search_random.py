"""Rule search_random: the random-search baseline of paper Table 1 (see mfas_core.search)."""

from mfas_core.rule_log import rule_log
from mfas_core.search.random import run_random_search
from mfas_core.search.settings import SearchSettings

with rule_log(snakemake):
    run_random_search(
        list(snakemake.input.features),
        snakemake.output.candidates,
        SearchSettings.from_params(**snakemake.params),
        threads=snakemake.threads,
    )
