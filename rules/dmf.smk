# Dense Multimodal Fusion (Hu et al.): EMF / IMF / DMF networks, Table 1 per dataset, SVM and
# retrieval on the encoder-decoder's joint code with raw-input baselines, Fig. 4 curves.


rule train_dmf:
    input:
        data="results/data/{dataset}.h5",
    output:
        model=seed_outputs(
            "results/dmf/{dataset}/{variant}/{model}/seed{seed}/model.pt", DMF["seeds"]
        ),
        metrics=seed_outputs(
            "results/dmf/{dataset}/{variant}/{model}/seed{seed}/metrics.json",
            DMF["seeds"],
        ),
    log:
        "logs/train_dmf/{dataset}/{variant}/{model}.log",
    benchmark:
        "results/benchmarks/train_dmf/{dataset}/{variant}/{model}.tsv"
    threads: DMF["threads"]
    resources:
        gpu=GPU,
    params:
        dataset=lambda wc: wc.dataset,
        variant=lambda wc: wc.variant,
        model=lambda wc: wc.model,
        seeds=DMF["seeds"],
        damage=lambda wc: dataset_spec(wc.dataset).get("damage"),
        settings=dmf_train_settings,
    script:
        "../workflow_scripts/train_dmf.py"


rule evaluate_dmf:
    input:
        model=seed_outputs(
            "results/dmf/{dataset}/encdec/{model}/seed{seed}/model.pt", DMF["seeds"]
        ),
        data="results/data/{dataset}.h5",
    output:
        seed_outputs(
            "results/dmf/{dataset}/encdec/{model}/seed{seed}/evaluation.json",
            DMF["seeds"],
        ),
    log:
        "logs/evaluate_dmf/{dataset}/{model}.log",
    benchmark:
        "results/benchmarks/evaluate_dmf/{dataset}/{model}.tsv"
    threads: 1
    resources:
        gpu=GPU,
    params:
        dataset=lambda wc: wc.dataset,
        model=lambda wc: wc.model,
        seeds=DMF["seeds"],
        settings=dmf_eval_settings(),
    script:
        "../workflow_scripts/evaluate_dmf.py"


rule evaluate_dmf_baselines:
    input:
        data="results/data/{dataset}.h5",
    output:
        seed_outputs("results/dmf/{dataset}/baselines/seed{seed}.json", DMF["seeds"]),
    log:
        "logs/evaluate_dmf_baselines/{dataset}.log",
    benchmark:
        "results/benchmarks/evaluate_dmf_baselines/{dataset}.tsv"
    threads: 1
    params:
        dataset=lambda wc: wc.dataset,
        seeds=DMF["seeds"],
        code_dim=DMF["shared_sizes"][-1],
        cca_components=DMF["cca_components"],
        settings=dmf_eval_settings(),
    script:
        "../workflow_scripts/evaluate_dmf_baselines.py"


rule tabulate_dmf:
    input:
        metrics=lambda wc: dmf_runs(
            "disc", dmf_table_datasets(wc.table), "metrics.json"
        ),
    output:
        report(
            "results/tables/dmf_{table}.md",
            caption="../report/dmf_table.rst",
            category="DMF",
        ),
    log:
        "logs/tabulate_dmf/dmf_{table}.log",
    benchmark:
        "results/benchmarks/tabulate_dmf/dmf_{table}.tsv"
    wildcard_constraints:
        table="|".join(dmf_tables()) or "^$",
    script:
        "../workflow_scripts/tabulate_dmf.py"


rule tabulate_dmf_svm:
    input:
        svm=dmf_runs("encdec", dmf_encdec_datasets(), "evaluation.json"),
        baselines=dmf_baseline_runs(),
        disc=dmf_runs("disc", dmf_disc_datasets(dmf_encdec_datasets()), "metrics.json"),
    output:
        report(
            "results/tables/dmf_svm.md",
            caption="../report/dmf_svm.rst",
            category="DMF",
        ),
    log:
        "logs/tabulate_dmf_svm/dmf_svm.log",
    benchmark:
        "results/benchmarks/tabulate_dmf_svm/dmf_svm.tsv"
    script:
        "../workflow_scripts/tabulate_dmf_svm.py"


rule tabulate_dmf_retrieval:
    input:
        retrieval=dmf_runs("encdec", dmf_encdec_datasets(), "evaluation.json"),
        baselines=dmf_baseline_runs(),
    output:
        report(
            "results/tables/dmf_retrieval.md",
            caption="../report/dmf_retrieval.rst",
            category="DMF",
        ),
    log:
        "logs/tabulate_dmf_retrieval/dmf_retrieval.log",
    benchmark:
        "results/benchmarks/tabulate_dmf_retrieval/dmf_retrieval.tsv"
    script:
        "../workflow_scripts/tabulate_dmf_retrieval.py"


rule plot_dmf_curves:
    input:
        metrics=dmf_runs("disc", dmf_disc_datasets(), "metrics.json"),
    output:
        report(
            "results/plots/dmf_curves.png",
            caption="../report/dmf_curves.rst",
            category="DMF",
        ),
    log:
        "logs/plot_dmf_curves/dmf_curves.log",
    benchmark:
        "results/benchmarks/plot_dmf_curves/dmf_curves.tsv"
    script:
        "../workflow_scripts/plot_dmf_curves.py"
