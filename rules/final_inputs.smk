# Settings and input functions of rules/final.smk (kept apart: the linter wants rules and
# functions in different files).
from mfas_core.config import ConfigError

FINAL = config["final"]
FINAL_SETTINGS = {
    key: FINAL[key]
    for key in (
        "width",
        "dropout",
        "epochs",
        "lr",
        "weight_decay",
        "batch_size",
        "min_steps",
        "finetune_epochs",
        "finetune_lr",
        "lrtf_rank",
    )
}
# Final training needs a search's topk.tsv: of `final.datasets`, the searched ones. A user's
# config is merged over config/config.yaml, so a config that searches only its own dataset
# still inherits the default's final.datasets; those entries are skipped, not an error.
_FINAL_NAMED = {
    g
    for d in FINAL["datasets"]
    if d in DATASETS or any(v["group"] == d for v in DATASETS.values())
    for g in instances_of(d, DATASETS)
}
FINAL_DATASETS = [d for d in SEARCH_DATASETS if d in _FINAL_NAMED]
for _name in FINAL["datasets"]:
    if _name not in DATASETS and not any(
        v["group"] == _name for v in DATASETS.values()
    ):
        raise ConfigError(f"config: final.datasets: {_name!r} is not under `datasets`")
FINAL_MFAS = "results/final/{dataset}/mfas/search{search_seed}/rank{rank}/seed{seed}/metrics.json"
FINAL_BASELINE = "results/final/{dataset}/baselines/{method}/seed{seed}/metrics.json"


def final_methods(dataset):
    """Baseline method names of a dataset (`unimodal` -> one per modality)."""
    out = []
    for m in FINAL["baselines"]:
        out += (
            [f"unimodal_{mod}" for mod in modalities(dataset)]
            if m == "unimodal"
            else [m]
        )
    return out


def final_mfas_metrics(wildcards):
    return final_mfas_files(wildcards.dataset)


def final_mfas_files(dataset):
    """metrics.json of every final_train job of a dataset."""
    return expand(
        FINAL_MFAS,
        dataset=dataset,
        search_seed=SEARCH_CFG["seeds"],
        rank=range(1, FINAL["top"] + 1),
        seed=FINAL["seeds"],
    )


def final_baseline_metrics(wildcards):
    return expand(
        FINAL_BASELINE,
        dataset=wildcards.dataset,
        method=final_methods(wildcards.dataset),
        seed=FINAL["seeds"],
    )


def finetune_inputs(kind):
    """Raw data and backbones of a dataset, only when phase 2 (fine-tuning) runs."""

    def inputs(wildcards):
        if FINAL["finetune_epochs"] <= 0:
            return []
        if kind == "data":
            return [f"results/data/{wildcards.dataset}.h5"]
        return [
            f"results/backbones/{wildcards.dataset}/{m}.pt"
            for m in modalities(wildcards.dataset)
        ]

    return inputs


def final_outputs():
    """Final-training targets for rule all (called from get_final_outputs in common.smk)."""
    return expand(
        ["results/tables/final_{dataset}.md", "results/plots/final_{dataset}.png"],
        dataset=FINAL_DATASETS,
    )
