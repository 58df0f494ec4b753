# Final training (MFAS paper §4, Tables 2-3): the top-k found architectures and the fusion
# baselines, trained on the same budget from the cached taps; tables and a plot per dataset.
from mfas_core.config import ConfigError
from mfas_core.models import BASELINES

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
        out += [f"unimodal_{mod}" for mod in modalities(dataset)] if m == "unimodal" else [m]
    return out


def final_mfas_metrics(wildcards):
    return expand(
        FINAL_MFAS,
        dataset=wildcards.dataset,
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


rule final_train:
    input:
        features=feature_files,
        topk="results/search/{dataset}/seed{search_seed}/topk.tsv",
        data=finetune_inputs("data"),
        backbones=finetune_inputs("backbones"),
    output:
        metrics=FINAL_MFAS,
    log:
        "logs/final_train/{dataset}/search{search_seed}/rank{rank}/seed{seed}.log",
    benchmark:
        "results/benchmarks/final_train/{dataset}/search{search_seed}/rank{rank}/seed{seed}.tsv"
    wildcard_constraints:
        search_seed=r"\d+",
        rank=r"\d+",
    threads: FINAL["threads"]
    resources:
        gpu=GPU,
    params:
        dataset="{dataset}",
        rank=lambda wc: int(wc.rank),
        search_seed=lambda wc: int(wc.search_seed),
        seed=lambda wc: int(wc.seed),
        nonlinearities=SEARCH_CFG["nonlinearities"],
        settings=FINAL_SETTINGS,
        modalities=lambda wc: list(modalities(wc.dataset)),
        backbone_specs=lambda wc: dataset_spec(wc.dataset)["backbones"],
        device=config["device"],
    script:
        "../workflow_scripts/final_train.py"


rule final_baseline:
    input:
        features=feature_files,
    output:
        metrics=FINAL_BASELINE,
    log:
        "logs/final_baseline/{dataset}/{method}/seed{seed}.log",
    benchmark:
        "results/benchmarks/final_baseline/{dataset}/{method}/seed{seed}.tsv"
    wildcard_constraints:
        method="[a-z0-9_]+|unimodal_[A-Za-z0-9]+",
    threads: FINAL["threads"]
    resources:
        gpu=GPU,
    params:
        dataset="{dataset}",
        method="{method}",
        seed=lambda wc: int(wc.seed),
        modalities=lambda wc: list(modalities(wc.dataset)),
        settings=FINAL_SETTINGS,
        device=config["device"],
    script:
        "../workflow_scripts/final_baseline.py"


rule tabulate_final:
    input:
        mfas=final_mfas_metrics,
        baselines=final_baseline_metrics,
        backbones=lambda wc: [
            f"results/backbones/{wc.dataset}/{m}.metrics.json"
            for m in modalities(wc.dataset)
        ],
    output:
        table=report(
            "results/tables/final_{dataset}.md",
            caption="../report/final_table.rst",
            category="Final training",
        ),
        tsv="results/tables/final_{dataset}.tsv",
    log:
        "logs/tabulate_final/{dataset}.log",
    benchmark:
        "results/benchmarks/tabulate_final/{dataset}.tsv"
    params:
        dataset="{dataset}",
        kind=lambda wc: dataset_spec(wc.dataset)["kind"],
        modalities=lambda wc: list(modalities(wc.dataset)),
        setup={
            **FINAL_SETTINGS,
            "top": FINAL["top"],
            "seeds": FINAL["seeds"],
            "search_seeds": SEARCH_CFG["seeds"],
        },
    script:
        "../workflow_scripts/final_table.py"


rule plot_final:
    input:
        mfas=final_mfas_metrics,
        baselines=final_baseline_metrics,
    output:
        plot=report(
            "results/plots/final_{dataset}.png",
            caption="../report/final_plot.rst",
            category="Final training",
        ),
    log:
        "logs/plot_final/{dataset}.log",
    benchmark:
        "results/benchmarks/plot_final/{dataset}.tsv"
    params:
        title=lambda wc: f"Final training on {wc.dataset}: test score vs parameters",
    script:
        "../workflow_scripts/final_plot.py"
