# Shared by all rule files - config checks, wildcard constraints, dataset lists, input functions.
from mfas_core.config import check_config, damage_suffix, instances_of
from mfas_core.data.instances import check_dmf_datasets, dataset_instances

DATASETS = dataset_instances(config)
check_config(config, DATASETS)
check_dmf_datasets(config, DATASETS)
SEARCH_DATASETS = [
    d for g in config["search"]["datasets"] for d in instances_of(g, DATASETS)
]
DMF_DATASETS = [d for g in config["dmf"]["datasets"] for d in instances_of(g, DATASETS)]
DMF = config["dmf"]
# Datasets that need unimodal backbones and a feature cache (only the searched ones).
FEATURE_DATASETS = SEARCH_DATASETS
# GPUs a training job asks for: none when the config pins the CPU, so that such a run can be
# scheduled on CPU-only SLURM partitions (the slurm plugin turns `gpu` into --gpus).
GPU = 0 if config["device"] == "cpu" else 1


wildcard_constraints:
    dataset="[A-Za-z0-9_]+",
    modality="[A-Za-z0-9]+",
    seed=r"\d+",
    level=r"\d+",
    model="emf|imf|dmf",
    variant="disc|encdec",


def seed_outputs(pattern, seeds):
    """One output per seed of a job that trains every seed in one process: a job's start-up
    (torch, data) costs about as much as a small model's training (issue 12, "Speed").
    """
    return expand(pattern, seed=seeds, allow_missing=True)


def modalities(dataset):
    """The two modalities of a dataset instance, in order (modality 1, modality 2)."""
    return DATASETS[dataset]["modalities"]


def dataset_spec(dataset):
    """Complete, plain-builtin spec of a dataset instance (for params:)."""
    return DATASETS[dataset]


def prepare_spec(dataset):
    """What prepare_data uses of a dataset instance: its spec without the backbones, so that
    editing a backbone re-runs backbones and what follows, never the data (issue 13)."""
    return {k: v for k, v in DATASETS[dataset].items() if k != "backbones"}


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


def level_tables(dataset, seed):
    return [
        f"results/search/{dataset}/seed{seed}/level{level}/candidates.tsv"
        for level in range(1, config["search"]["max_layers"] + 1)
    ]


def dmf_mnist_datasets():
    """DMF instances of mnist_halves entries (the rows of paper Table 1)."""
    return [d for d in DMF_DATASETS if dataset_spec(d)["kind"] == "mnist_halves"]


def dmf_encdec_datasets():
    """Instances that get the encoder–decoder variant (SVM and retrieval).

    Every non-mnist_halves instance; of each mnist_halves entry the damage levels listed in
    dmf.encdec_damage_levels (its lowest level if none of them is configured).
    """
    wanted = {damage_suffix(level) for level in DMF["encdec_damage_levels"]}
    out, groups = [], {}
    for d in DMF_DATASETS:
        spec = dataset_spec(d)
        if spec["kind"] != "mnist_halves":
            out.append(d)
        else:
            groups.setdefault(spec["group"], []).append(d)
    for members in groups.values():
        chosen = [
            d for d in members if damage_suffix(dataset_spec(d)["damage"]) in wanted
        ]
        out += chosen or [min(members, key=lambda d: dataset_spec(d)["damage"])]
    return out


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


def dmf_tables():
    """Discriminative tables: `mnist` (paper Table 1, every mnist_halves instance, kept under
    its old name) and one per other DMF dataset instance (`dmf_<dataset>.md`)."""
    names = ["mnist"] if dmf_mnist_datasets() else []
    return names + [d for d in DMF_DATASETS if d not in dmf_mnist_datasets()]


def dmf_table_datasets(table):
    """The dataset instances one discriminative table covers."""
    return dmf_mnist_datasets() if table == "mnist" else [table]


def dmf_baseline_runs():
    """Raw-input baselines, one file per (encoder-decoder dataset, seed)."""
    return expand(
        "results/dmf/{dataset}/baselines/seed{seed}.json",
        dataset=dmf_encdec_datasets(),
        seed=DMF["seeds"],
    )


def dmf_eval_params():
    """Settings shared by rules dmf_evaluate and dmf_baselines (same samples, same SVM)."""
    return {
        "svm_c": DMF["svm_c"],
        "svm_kernel": DMF["svm_kernel"],
        "svm_max_train": DMF["svm_max_train"],
        "retrieval_max_queries": DMF["retrieval_max_queries"],
        "cca_components": DMF["cca_components"],
        "device": config["device"],
    }


def dmf_final_outputs():
    """Final DMF targets for rule all (called from rules/common.smk)."""
    out = [f"results/tables/dmf_{t}.md" for t in dmf_tables()]
    out += [
        "results/tables/dmf_svm.md",
        "results/tables/dmf_retrieval.md",
        "results/plots/dmf_curves.png",
    ]
    return out


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
            seed=config["search"]["seeds"],
        )
    if DMF_DATASETS:
        out += dmf_final_outputs()
    out += final_outputs()  # rules/final.smk
    return out
