"""Rule evaluate_dmf: SVM and retrieval on one encoder-decoder's joint code, every seed
(mfas_core.dmf.evaluate)."""

from mfas_core.dmf.evaluate import evaluate_encdec
from mfas_core.rule_log import rule_log

with rule_log(snakemake):
    params = dict(snakemake.params)
    seeds = params.pop("seeds")
    settings = params.pop("settings")
    for seed, model, out in zip(seeds, snakemake.input.model, snakemake.output, strict=True):
        evaluate_encdec(
            model,
            snakemake.input.data,
            out,
            seed=seed,
            threads=snakemake.threads,
            **params,
            **settings,
        )
