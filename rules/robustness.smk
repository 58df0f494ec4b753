# Robustness of every final model to a missing or noisy modality (the DMF paper scores its
# models with one modality zeroed): the test split of each modality perturbed at the input,
# through its frozen backbone to the cached taps once per dataset, every final model scored
# on them in one job per dataset; one table and one plot per dataset.


rule extract_perturbed_features:
    input:
        data="results/data/{dataset}.h5",
        model="results/backbones/{dataset}/{modality}.pt",
    output:
        features=expand(ROBUST_FEATURES, perturbation=PERTURBATIONS, allow_missing=True),
    log:
        "logs/extract_perturbed_features/{dataset}/{modality}.log",
    benchmark:
        "results/benchmarks/extract_perturbed_features/{dataset}/{modality}.tsv"
    threads: config["threads"]
    resources:
        gpu=GPU,
    params:
        dataset="{dataset}",
        modality="{modality}",
        spec=lambda wc: dataset_spec(wc.dataset)["backbones"][wc.modality],
        settings=robustness_settings(),
        seed=config["seed"],
        batch_size=config["backbone_training"]["extract_batch_size"],
        device=config["device"],
    script:
        "../workflow_scripts/extract_perturbed_features.py"


rule evaluate_final_robustness:
    input:
        models=final_model_files,
        metrics=final_metrics_files,
        features=feature_files,
        perturbed=perturbed_feature_files,
    output:
        metrics=ROBUST_METRICS,
    log:
        "logs/evaluate_final_robustness/{dataset}.log",
    benchmark:
        "results/benchmarks/evaluate_final_robustness/{dataset}.tsv"
    threads: FINAL["threads"]
    resources:
        gpu=GPU,
    params:
        dataset="{dataset}",
        modalities=lambda wc: trained_modalities(wc.dataset),
        device=config["device"],
    script:
        "../workflow_scripts/evaluate_final_robustness.py"


rule tabulate_final_robustness:
    input:
        metrics=ROBUST_METRICS,
    output:
        table=report(
            "results/tables/robustness_{dataset}.md",
            caption="../report/robustness_table.rst",
            category="Robustness",
        ),
        tsv="results/tables/robustness_{dataset}.tsv",
    log:
        "logs/tabulate_final_robustness/{dataset}.log",
    benchmark:
        "results/benchmarks/tabulate_final_robustness/{dataset}.tsv"
    params:
        dataset="{dataset}",
    script:
        "../workflow_scripts/tabulate_final_robustness.py"


rule plot_final_robustness:
    input:
        metrics=ROBUST_METRICS,
    output:
        plot=report(
            "results/plots/robustness_{dataset}.png",
            caption="../report/robustness_plot.rst",
            category="Robustness",
        ),
    log:
        "logs/plot_final_robustness/{dataset}.log",
    benchmark:
        "results/benchmarks/plot_final_robustness/{dataset}.tsv"
    params:
        title=lambda wc: f"Robustness on {wc.dataset}: test score vs perturbation strength",
    script:
        "../workflow_scripts/plot_final_robustness.py"
