# MFAS search (paper Algorithm 1): one job per SMBO level, summary, random baseline, table, plots
# (the search's progress, and a diagram of each top architecture).
rule search_level:
    input:
        features=feature_files,
        previous=previous_level,
    output:
        candidates=f"{SEARCH_DIR}/level{{level}}/candidates.tsv",
        surrogate=f"{SEARCH_DIR}/level{{level}}/surrogate.pt",
        bank=f"{SEARCH_DIR}/level{{level}}/bank.pt",
        state=f"{SEARCH_DIR}/level{{level}}/state.json",
    log:
        "logs/search_level/{dataset}/seed{seed}/level{level}.log",
    benchmark:
        "results/benchmarks/search_level/{dataset}/seed{seed}/level{level}.tsv"
    priority: 5
    threads: SEARCH_CFG["workers"]
    resources:
        gpu=GPU,
    params:
        level=lambda wc: int(wc.level),
        settings=search_level_settings,
    script:
        "../workflow_scripts/search_level.py"


rule summarize_search:
    input:
        candidates=lambda wc: level_tables(wc.dataset, wc.seed),
    output:
        topk=f"{SEARCH_DIR}/topk.tsv",
    log:
        "logs/summarize_search/{dataset}/seed{seed}.log",
    benchmark:
        "results/benchmarks/summarize_search/{dataset}/seed{seed}.tsv"
    params:
        k=SEARCH_CFG["k"],
    script:
        "../workflow_scripts/summarize_search.py"


rule search_random:
    input:
        features=feature_files,
    output:
        candidates=f"{SEARCH_DIR}/random/candidates.tsv",
    log:
        "logs/search_random/{dataset}/seed{seed}.log",
    benchmark:
        "results/benchmarks/search_random/{dataset}/seed{seed}.tsv"
    priority: 4
    threads: SEARCH_CFG["workers"]
    resources:
        gpu=GPU,
    params:
        settings=search_random_settings,
    script:
        "../workflow_scripts/search_random.py"


rule tabulate_search:
    input:
        topk=expand(
            f"{SEARCH_DIR}/topk.tsv", dataset=SEARCH_DATASETS, seed=SEARCH_CFG["seeds"]
        ),
        levels=[
            t
            for d in SEARCH_DATASETS
            for s in SEARCH_CFG["seeds"]
            for t in level_tables(d, s)
        ],
        random=(
            expand(
                f"{SEARCH_DIR}/random/candidates.tsv",
                dataset=SEARCH_DATASETS,
                seed=SEARCH_CFG["seeds"],
            )
            if SEARCH_CFG["random_search"]
            else []
        ),
        final=search_table_finals,
        baselines=search_table_baselines,
    output:
        table=report(
            "results/tables/search.md",
            caption="../report/search.rst",
            category="MFAS search",
        ),
    log:
        "logs/tabulate_search/search.log",
    benchmark:
        "results/benchmarks/tabulate_search/search.tsv"
    params:
        top_k=SEARCH_CFG["top_k"],
        setup=search_table_settings(),
        space_pairs=SPACE_PAIRS,
    script:
        "../workflow_scripts/tabulate_search.py"


rule plot_search:
    input:
        candidates=lambda wc: level_tables(wc.dataset, wc.seed),
    output:
        plot=report(
            "results/plots/search_{dataset}_seed{seed}.png",
            caption="../report/search_plot.rst",
            category="MFAS search",
            subcategory="{dataset}",
        ),
    log:
        "logs/plot_search/{dataset}/seed{seed}.log",
    benchmark:
        "results/benchmarks/plot_search/{dataset}/seed{seed}.tsv"
    params:
        title=lambda wc: f"MFAS search on {wc.dataset}, seed {wc.seed}",
    script:
        "../workflow_scripts/plot_search.py"


rule plot_architectures:
    input:
        topk=f"{SEARCH_DIR}/topk.tsv",
        features=feature_files,
    output:
        svgs=arch_pictures(),
    log:
        "logs/plot_architectures/{dataset}/seed{seed}.log",
    benchmark:
        "results/benchmarks/plot_architectures/{dataset}/seed{seed}.tsv"
    params:
        dataset="{dataset}",
        seed=lambda wc: int(wc.seed),
        width=SEARCH_CFG["width"],
        nonlinearities=SEARCH_CFG["nonlinearities"],
        fusion=lambda wc: fusion_params(wc.dataset),
    script:
        "../workflow_scripts/plot_architectures.py"
