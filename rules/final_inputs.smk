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
FINAL_DATASETS = [g for d in FINAL["datasets"] for g in instances_of(d, DATASETS)]
if set(FINAL_DATASETS) - set(SEARCH_DATASETS):
    raise ConfigError(
        f"final.datasets: {sorted(set(FINAL_DATASETS) - set(SEARCH_DATASETS))} "
        "are not in search.datasets (final training needs their topk.tsv)"
    )
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
