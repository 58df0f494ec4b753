# Shared by every rule file - config checks, wildcard constraints, dataset lists, input
# functions and the one `settings` param of each training rule (built by the library).
import re

from mfas_core.config import check_config, check_finetune, instances_of
from mfas_core.data.instances import dataset_instances
from mfas_core.dmf import plan as dmf_plan
from mfas_core.dmf.settings import eval_params, train_params as dmf_train_params
from mfas_core.final import plan as final_plan
from mfas_core.final.settings import baseline_params, table_setup as final_table_setup
from mfas_core.final.settings import train_params as final_train_params
from mfas_core.final.settings import RobustnessSettings, robustness_params
from mfas_core.report.arch_plot import ARCH_SVG, TOP1_SVG
from mfas_core.search.settings import level_params, random_params, space_pairs
from mfas_core.search.settings import table_setup as search_table_setup
from mfas_core.unimodal.backbones import training_params

DATASETS = dataset_instances(config)
check_config(config, DATASETS)
SEARCH_CFG = config["search"]
DMF = config["dmf"]
FINAL = config["final"]
DEVICE = config["device"]
SEARCH_DATASETS = [d for g in SEARCH_CFG["datasets"] for d in instances_of(g, DATASETS)]
DMF_DATASETS = [d for g in DMF["datasets"] for d in instances_of(g, DATASETS)]
# Datasets that need unimodal backbones and a feature cache (only the searched ones).
FEATURE_DATASETS = SEARCH_DATASETS
FINAL_DATASETS = final_plan.final_datasets(FINAL["datasets"], SEARCH_DATASETS, DATASETS)
check_finetune(config, FINAL_DATASETS, DATASETS)
# [paper, extended] dataset pairs searched in two spaces (config/search_ops.yaml)
SPACE_PAIRS = space_pairs(DATASETS, SEARCH_DATASETS, SEARCH_CFG["fusion_ops"])
# Modalities whose features the dataset file already holds (type: precomputed): rule
# copy_features writes their cache, with no train_backbone or extract_features job. The
# constraint on {modality} names exactly these (dataset, modality) pairs (a fixed-width
# look-behind per pair); with none it matches nothing.
PRECOMPUTED = [
    (d, m)
    for d in FEATURE_DATASETS
    for m, spec in DATASETS[d]["backbones"].items()
    if spec["type"] == "precomputed"
]
PRECOMPUTED_MODALITY = (
    "|".join(f"(?<=/{re.escape(d)}/){re.escape(m)}" for d, m in PRECOMPUTED) or "(?!)"
)
# GPUs a training job asks for: none when the config pins the CPU, so that such a run can be
# scheduled on CPU-only SLURM partitions (the slurm plugin turns `gpu` into --gpus).
GPU = 0 if DEVICE == "cpu" else 1
SEARCH_DIR = "results/search/{dataset}/seed{seed}"
FINAL_MFAS = "results/final/{dataset}/mfas/search{search_seed}/rank{rank}/seed{seed}/metrics.json"
FINAL_BASELINE = "results/final/{dataset}/baselines/{method}/seed{seed}/metrics.json"
# The trained weights beside each metrics.json (scored by the robustness rules).
FINAL_MFAS_MODEL = FINAL_MFAS.replace("metrics.json", "model.pt")
FINAL_BASELINE_MODEL = FINAL_BASELINE.replace("metrics.json", "model.pt")
# FLOPs and latency of every final model of a dataset (one job per dataset).
FINAL_COST = "results/final/{dataset}/cost.json"
ROBUSTNESS = config["robustness"]
ROBUST_FEATURES = "results/robustness/{dataset}/features/{modality}/{perturbation}.h5"
ROBUST_METRICS = "results/robustness/{dataset}/metrics.json"
# Perturbation file names (zero, noise1, ...), the same for every modality.
PERTURBATIONS = RobustnessSettings.from_params(**robustness_params(ROBUSTNESS)).names
# Ranks of each search that get a picture: search.top_k, or all search.k rows of topk.tsv
# when k is smaller (the search table links exactly these).
ARCH_RANKS = list(range(1, min(SEARCH_CFG["top_k"], SEARCH_CFG["k"]) + 1))


wildcard_constraints:
    dataset="[A-Za-z0-9_]+",
    modality="[A-Za-z0-9]+",
    seed=r"\d+",
    level=r"\d+",
    model="emf|imf|dmf",
    variant="disc|encdec",


def seed_outputs(pattern, seeds):
    """One output per seed of a job that trains every seed in one process: a job's start-up
    (torch, data) costs about as much as a small model's training."""
    return expand(pattern, seed=seeds, allow_missing=True)


def modalities(dataset):
    """The two modalities of a dataset instance, in order (modality 1, modality 2)."""
    return DATASETS[dataset]["modalities"]


def trained_modalities(dataset):
    """Modalities of a dataset that have a backbone (all but the precomputed ones)."""
    return [m for m in modalities(dataset) if (dataset, m) not in PRECOMPUTED]


def backbone_metrics_files(datasets):
    """metrics.json of every backbone of these datasets (precomputed modalities have none)."""
    return [
        f"results/backbones/{d}/{m}.metrics.json"
        for d in datasets
        for m in trained_modalities(d)
    ]


def backbone_weights(wildcards):
    """A pretrained backbone's weights file (an input: editing it re-runs the backbone)."""
    spec = DATASETS[wildcards.dataset]["backbones"][wildcards.modality]
    return [spec["weights"]] if "weights" in spec else []


def dataset_spec(dataset):
    """Complete, plain-builtin spec of a dataset instance (for params:)."""
    return DATASETS[dataset]


def prepare_spec(dataset):
    """What prepare_data uses of a dataset instance: its spec without the backbones, so that
    editing a backbone re-runs backbones and what follows, never the data."""
    return {k: v for k, v in DATASETS[dataset].items() if k != "backbones"}


# --------------------------------------------------------------------------- settings params


def backbone_training_settings():
    return training_params(config["backbone_training"])


def search_config(dataset):
    """`search:` as a dataset's search reads it: its entry's search_fusion_ops, if any, in
    place of search.fusion_ops (two spaces side by side, docs/mfas.md)."""
    ops = DATASETS[dataset].get("search_fusion_ops", SEARCH_CFG["fusion_ops"])
    return {**SEARCH_CFG, "fusion_ops": list(ops)}


def fusion_params(dataset):
    """The fusion operators a dataset's architectures are read and built with."""
    cfg = search_config(dataset)
    return {"fusion_ops": cfg["fusion_ops"], "lowrank_rank": cfg["lowrank_rank"]}


def search_level_settings(wildcards):
    return level_params(search_config(wildcards.dataset), DEVICE, int(wildcards.seed))


def search_random_settings(wildcards):
    return random_params(search_config(wildcards.dataset), DEVICE, int(wildcards.seed))


def search_table_settings():
    return search_table_setup(SEARCH_CFG)


def final_train_settings():
    return final_train_params(FINAL)


def final_baseline_settings(wildcards):
    return baseline_params(FINAL, wildcards.method)


def final_table_settings():
    return final_table_setup(FINAL, SEARCH_CFG["seeds"])


def robustness_settings():
    return robustness_params(ROBUSTNESS)


def dmf_train_settings(wildcards):
    group = DATASETS[wildcards.dataset]["group"]
    return dmf_train_params(DMF, wildcards.variant, DEVICE, group)


def dmf_eval_settings():
    return eval_params(DMF, DEVICE)


# --------------------------------------------------------------------------- search inputs


def feature_files(wildcards):
    """The two cached feature files of a dataset, modality 1 first."""
    return [
        f"results/features/{wildcards.dataset}/{m}.h5"
        for m in modalities(wildcards.dataset)
    ]


def previous_level(wildcards):
    """Everything level l-1 saved (nothing for level 1)."""
    level = int(wildcards.level)
    if level <= 1:
        return []
    prev = f"results/search/{wildcards.dataset}/seed{wildcards.seed}/level{level - 1}"
    return [
        f"{prev}/{name}"
        for name in ("candidates.tsv", "surrogate.pt", "bank.pt", "state.json")
    ]


def arch_pictures():
    """The per-rank architecture pictures of one search ({dataset}, {seed} left open)."""
    return expand(ARCH_SVG, rank=ARCH_RANKS, allow_missing=True)


def level_tables(dataset, seed):
    return [
        f"results/search/{dataset}/seed{seed}/level{level}/candidates.tsv"
        for level in range(1, SEARCH_CFG["max_layers"] + 1)
    ]


# --------------------------------------------------------------------------- final inputs


def final_methods(dataset):
    """Baseline method names of a dataset (`unimodal` -> one per modality)."""
    return final_plan.methods(FINAL["baselines"], modalities(dataset))


def final_mfas_files(dataset):
    """metrics.json of every train_final job of a dataset."""
    return expand(
        FINAL_MFAS,
        dataset=dataset,
        search_seed=SEARCH_CFG["seeds"],
        rank=range(1, FINAL["top"] + 1),
        seed=FINAL["seeds"],
    )


def final_mfas_metrics(wildcards):
    return final_mfas_files(wildcards.dataset)


def final_baseline_files(dataset):
    return expand(
        FINAL_BASELINE,
        dataset=dataset,
        method=final_methods(dataset),
        seed=FINAL["seeds"],
    )


def final_baseline_metrics(wildcards):
    return final_baseline_files(wildcards.dataset)


def final_model_files(wildcards):
    """model.pt of every final run of a dataset, in final_metrics_files order."""
    return [
        p.replace("metrics.json", "model.pt") for p in final_metrics_files(wildcards)
    ]


def final_metrics_files(wildcards):
    """metrics.json of every final run of a dataset: MFAS ranks, then the baselines."""
    return final_mfas_metrics(wildcards) + final_baseline_metrics(wildcards)


def perturbed_feature_files(wildcards):
    """Every perturbed test cache of a dataset, modality by modality (a precomputed modality
    has no input to perturb: it is not scored)."""
    return [
        p
        for m in trained_modalities(wildcards.dataset)
        for p in expand(
            ROBUST_FEATURES,
            dataset=wildcards.dataset,
            modality=m,
            perturbation=PERTURBATIONS,
        )
    ]


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


def search_table_baselines(wildcards):
    """Final baseline runs of each extended dataset of a space pair (search.md's rows
    against the best baseline), when final training is configured for it."""
    return [
        p
        for _, x in SPACE_PAIRS
        if x in FINAL_DATASETS
        for p in final_baseline_files(x)
    ]


def search_table_finals(wildcards):
    """Final training of each search's top architectures, when configured."""
    return [
        p for d in SEARCH_DATASETS if d in FINAL_DATASETS for p in final_mfas_files(d)
    ]


# --------------------------------------------------------------------------- DMF inputs


def dmf_encdec_datasets():
    """Instances that get the encoder-decoder variant (mfas_core.dmf.plan)."""
    return dmf_plan.encdec_datasets(DMF_DATASETS, DATASETS, DMF["encdec_damage_levels"])


def dmf_disc_datasets(datasets=None):
    """Of `datasets` (default: every DMF instance) those that get the discriminative variant."""
    return dmf_plan.disc_datasets(
        DMF_DATASETS if datasets is None else datasets, DATASETS
    )


def dmf_tables():
    return dmf_plan.tables(DMF_DATASETS, DATASETS)


def dmf_table_datasets(table):
    return dmf_plan.table_datasets(table, DMF_DATASETS, DATASETS)


def dmf_runs(variant, datasets, name):
    """Per-run files `name` of a variant for the given datasets, all models and seeds."""
    return expand(
        "results/dmf/{dataset}/{variant}/{model}/seed{seed}/{name}",
        dataset=datasets,
        variant=variant,
        model=DMF["models"],
        seed=DMF["seeds"],
        name=name,
    )


def dmf_baseline_runs():
    """Raw-input baselines, one file per (encoder-decoder dataset, seed)."""
    return expand(
        "results/dmf/{dataset}/baselines/seed{seed}.json",
        dataset=dmf_encdec_datasets(),
        seed=DMF["seeds"],
    )


# --------------------------------------------------------------------------- targets


def get_final_outputs():
    """Everything `snakemake` (rule all) builds for the current config."""
    # Data files come in as inputs of the stages that use them: a dataset no stage lists is
    # not prepared (a user's config about one dataset builds that one only).
    out = []
    if FEATURE_DATASETS:
        out.append("results/tables/unimodal.md")
    if SEARCH_DATASETS:
        out += ["results/tables/search.md"]
        out += expand(
            "results/plots/search_{dataset}_seed{seed}.png",
            dataset=SEARCH_DATASETS,
            seed=SEARCH_CFG["seeds"],
        )
        out += expand(
            ARCH_SVG, dataset=SEARCH_DATASETS, seed=SEARCH_CFG["seeds"], rank=ARCH_RANKS
        )
    if DMF_DATASETS:
        out += [f"results/tables/dmf_{t}.md" for t in dmf_tables()]
        out += ["results/tables/dmf_svm.md", "results/tables/dmf_retrieval.md"]
        if dmf_disc_datasets():
            out.append("results/plots/dmf_curves.png")
    out += expand(
        [
            "results/tables/final_{dataset}.md",
            "results/plots/final_{dataset}.png",
            "results/plots/flops_{dataset}.png",
            TOP1_SVG,
        ],
        dataset=FINAL_DATASETS,
    )
    if ROBUSTNESS["enabled"]:
        out += expand(
            [
                "results/tables/robustness_{dataset}.md",
                "results/plots/robustness_{dataset}.png",
            ],
            dataset=FINAL_DATASETS,
        )
    return out
