# Unimodal backbones and the per-layer pooled feature cache.
rule train_backbone:
    input:
        data="results/data/{dataset}.h5",
        weights=backbone_weights,
    output:
        model="results/backbones/{dataset}/{modality}.pt",
        metrics=report(
            "results/backbones/{dataset}/{modality}.metrics.json",
            caption="../report/backbone_metrics.rst",
            category="Unimodal backbones",
            subcategory="{dataset}",
        ),
    log:
        "logs/train_backbone/{dataset}/{modality}.log",
    benchmark:
        "results/benchmarks/train_backbone/{dataset}/{modality}.tsv"
    priority: 10
    threads: config["threads"]
    resources:
        gpu=GPU,
    params:
        dataset="{dataset}",
        modality="{modality}",
        spec=lambda wc: dataset_spec(wc.dataset)["backbones"][wc.modality],
        training=backbone_training_settings(),
        seed=config["seed"],
        device=config["device"],
    script:
        "../workflow_scripts/train_backbone.py"


rule extract_features:
    input:
        data="results/data/{dataset}.h5",
        model="results/backbones/{dataset}/{modality}.pt",
    output:
        features="results/features/{dataset}/{modality}.h5",
    log:
        "logs/extract_features/{dataset}/{modality}.log",
    benchmark:
        "results/benchmarks/extract_features/{dataset}/{modality}.tsv"
    priority: 10
    threads: config["threads"]
    resources:
        gpu=GPU,
    params:
        dataset="{dataset}",
        modality="{modality}",
        spec=lambda wc: dataset_spec(wc.dataset)["backbones"][wc.modality],
        batch_size=config["backbone_training"]["extract_batch_size"],
        device=config["device"],
    script:
        "../workflow_scripts/extract_features.py"


# A precomputed modality's cache comes from the dataset file (mfas_core.unimodal.precomputed).
ruleorder: copy_features > extract_features


rule copy_features:
    input:
        data="results/data/{dataset}.h5",
    output:
        features="results/features/{dataset}/{modality}.h5",
    log:
        "logs/copy_features/{dataset}/{modality}.log",
    benchmark:
        "results/benchmarks/copy_features/{dataset}/{modality}.tsv"
    wildcard_constraints:
        modality=PRECOMPUTED_MODALITY,
    priority: 10
    params:
        dataset="{dataset}",
        modality="{modality}",
        spec=lambda wc: dataset_spec(wc.dataset)["backbones"][wc.modality],
    script:
        "../workflow_scripts/copy_features.py"


rule tabulate_unimodal:
    input:
        metrics=lambda wc: backbone_metrics_files(FEATURE_DATASETS),
    output:
        table=report(
            "results/tables/unimodal.md",
            caption="../report/unimodal.rst",
            category="Unimodal backbones",
        ),
    log:
        "logs/tabulate_unimodal/unimodal.log",
    benchmark:
        "results/benchmarks/tabulate_unimodal/unimodal.tsv"
    script:
        "../workflow_scripts/tabulate_unimodal.py"
