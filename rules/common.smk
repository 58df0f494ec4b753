# Shared by every rule file: config checks, wildcard constraints, dataset lists, input functions.
from mfas_core.config import check_config, dataset_instances, instances_of


DATASETS = dataset_instances(config)
check_config(config, DATASETS)
SEARCH_DATASETS = [d for g in config["search"]["datasets"] for d in instances_of(g, DATASETS)]
DMF_DATASETS = [d for g in config["dmf"]["datasets"] for d in instances_of(g, DATASETS)]
# Datasets that need unimodal backbones and a feature cache (only the searched ones).
FEATURE_DATASETS = SEARCH_DATASETS


wildcard_constraints:
    dataset="[A-Za-z0-9_]+",
    modality="[A-Za-z0-9]+",
    seed=r"\d+",
    level=r"\d+",
    model="emf|imf|dmf",
    variant="disc|encdec",


def modalities(dataset):
    """The two modalities of a dataset instance, in order (modality 1, modality 2)."""
    return DATASETS[dataset]["modalities"]


def dataset_spec(dataset):
    """Complete, plain-builtin spec of a dataset instance (for params:)."""
    return DATASETS[dataset]


def feature_files(wildcards):
    """The two cached feature files of a dataset, modality 1 first."""
    return [
        f"results/features/{wildcards.dataset}/{m}.h5" for m in modalities(wildcards.dataset)
    ]


def get_final_outputs():
    """Everything `snakemake` (rule all) builds for the current config."""
    out = [f"results/data/{d}.h5" for d in DATASETS]
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
    return out
