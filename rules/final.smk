# Final training (MFAS paper §4, Tables 2-3): the top-k found architectures and the fusion
# baselines, trained on the same budget from the cached taps; tables and plots per dataset (one
# of them the diagram of the dataset's MFAS top 1).


rule train_final:
    input:
        features=feature_files,
        topk="results/search/{dataset}/seed{search_seed}/topk.tsv",
        data=finetune_inputs("data"),
        backbones=finetune_inputs("backbones"),
    output:
        metrics=seed_outputs(FINAL_MFAS, FINAL["seeds"]),
        model=seed_outputs(FINAL_MFAS_MODEL, FINAL["seeds"]),
    log:
        "logs/train_final/{dataset}/search{search_seed}/rank{rank}.log",
    benchmark:
        "results/benchmarks/train_final/{dataset}/search{search_seed}/rank{rank}.tsv"
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
        seeds=FINAL["seeds"],
        nonlinearities=SEARCH_CFG["nonlinearities"],
        fusion=lambda wc: fusion_params(wc.dataset),
        settings=final_train_settings(),
        modalities=lambda wc: list(modalities(wc.dataset)),
        backbone_specs=lambda wc: dataset_spec(wc.dataset)["backbones"],
        device=config["device"],
    script:
        "../workflow_scripts/train_final.py"


rule train_final_baseline:
    input:
        features=feature_files,
    output:
        metrics=seed_outputs(FINAL_BASELINE, FINAL["seeds"]),
        model=seed_outputs(FINAL_BASELINE_MODEL, FINAL["seeds"]),
    log:
        "logs/train_final_baseline/{dataset}/{method}.log",
    benchmark:
        "results/benchmarks/train_final_baseline/{dataset}/{method}.tsv"
    wildcard_constraints:
        method="[a-z0-9_]+|unimodal_[A-Za-z0-9]+",
    threads: FINAL["threads"]
    resources:
        gpu=GPU,
    params:
        dataset="{dataset}",
        method="{method}",
        seeds=FINAL["seeds"],
        modalities=lambda wc: list(modalities(wc.dataset)),
        settings=final_baseline_settings,
        device=config["device"],
    script:
        "../workflow_scripts/train_final_baseline.py"


rule measure_final_cost:
    input:
        models=final_model_files,
        metrics=final_metrics_files,
        features=feature_files,
    output:
        cost=FINAL_COST,
    log:
        "logs/measure_final_cost/{dataset}.log",
    benchmark:
        "results/benchmarks/measure_final_cost/{dataset}.tsv"
    threads: FINAL["threads"]
    resources:
        gpu=GPU,
    params:
        dataset="{dataset}",
        device=config["device"],
    script:
        "../workflow_scripts/measure_final_cost.py"


rule tabulate_final:
    input:
        mfas=final_mfas_metrics,
        baselines=final_baseline_metrics,
        cost=FINAL_COST,
        backbones=lambda wc: backbone_metrics_files([wc.dataset]),
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
        setup=final_table_settings(),
    script:
        "../workflow_scripts/tabulate_final.py"


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
        "../workflow_scripts/plot_final.py"


rule plot_final_flops:
    input:
        mfas=final_mfas_metrics,
        baselines=final_baseline_metrics,
        cost=FINAL_COST,
    output:
        plot=report(
            "results/plots/flops_{dataset}.png",
            caption="../report/final_flops_plot.rst",
            category="Final training",
        ),
    log:
        "logs/plot_final_flops/{dataset}.log",
    benchmark:
        "results/benchmarks/plot_final_flops/{dataset}.tsv"
    params:
        title=lambda wc: f"Final training on {wc.dataset}: test score vs FLOPs",
    script:
        "../workflow_scripts/plot_final_flops.py"


rule plot_top1_architecture:
    input:
        mfas=final_mfas_metrics,
        features=feature_files,
    output:
        svg=report(
            TOP1_SVG,
            caption="../report/arch_top1.rst",
            category="MFAS search",
            subcategory="{dataset}",
        ),
    log:
        "logs/plot_top1_architecture/{dataset}.log",
    benchmark:
        "results/benchmarks/plot_top1_architecture/{dataset}.tsv"
    params:
        dataset="{dataset}",
        width=FINAL["width"],
        nonlinearities=SEARCH_CFG["nonlinearities"],
        fusion=lambda wc: fusion_params(wc.dataset),
    script:
        "../workflow_scripts/plot_top1_architecture.py"
