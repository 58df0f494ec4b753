"""Rule summarize_search: top K over every level's sampled architectures."""

from mfas_core.rule_log import rule_log
from mfas_core.search.summary import summarize_search

with rule_log(snakemake):
    summarize_search(list(snakemake.input.candidates), snakemake.output.topk, **snakemake.params)
