"""Rule search_level: one SMBO level of the MFAS search (see mfas_core.search)."""

from pathlib import Path

from mfas_core.rule_log import rule_log
from mfas_core.search.settings import SearchSettings
from mfas_core.search.smbo import run_search_level

with rule_log(snakemake):
    params = dict(snakemake.params)
    level = params.pop("level")
    run_search_level(
        list(snakemake.input.features),
        str(Path(snakemake.output.state).parent),
        level,
        prev_dir=list(snakemake.input.previous),
        settings=SearchSettings.from_params(**params["settings"]),
        threads=snakemake.threads,
    )
