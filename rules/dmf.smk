# Dense Multimodal Fusion (Hu et al.): EMF / IMF / DMF networks, Table 1 per dataset, SVM and
# retrieval on the encoder-decoder's joint code with raw-input baselines, Fig. 4 curves.


rule dmf_train:
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
        "logs/dmf_train/{dataset}/{variant}/{model}.log",
    benchmark:
        "results/benchmarks/dmf_train/{dataset}/{variant}/{model}.tsv"
    threads: DMF["threads"]
    resources:
        gpu=GPU,
    params:
        dataset=lambda wc: wc.dataset,
        variant=lambda wc: wc.variant,
        model=lambda wc: wc.model,
        seeds=DMF["seeds"],
        damage=lambda wc: dataset_spec(wc.dataset).get("damage"),
        modality_sizes=DMF["modality_sizes"],
        shared_sizes=DMF["shared_sizes"],
        max_epochs=DMF["max_epochs"],
        patience=DMF["patience"],
        min_steps=DMF["min_steps"],
        batch_size=DMF["batch_size"],
        lr=DMF["lr"],
        weight_decay=DMF["weight_decay"],
        max_train=DMF["max_train"],
        val_max=DMF["val_max"],
        encdec_lr=DMF["encdec_lr"],
        encdec_max_epochs=DMF["encdec_max_epochs"],
        encdec_max_train=DMF["encdec_max_train"],
        modality_dropout=DMF["modality_dropout"],
        cd_pretrain=DMF["cd_pretrain"],
        cd_k=DMF["cd_k"],
        cd_epochs=DMF["cd_epochs"],
        cd_lr=DMF["cd_lr"],
        cd_min_steps=DMF["cd_min_steps"],
        device=config["device"],
    script:
        "../workflow_scripts/dmf_train.py"


rule dmf_evaluate:
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
        "logs/dmf_evaluate/{dataset}/{model}.log",
    benchmark:
        "results/benchmarks/dmf_evaluate/{dataset}/{model}.tsv"
    threads: 1
    resources:
        gpu=GPU,
    params:
        **dmf_eval_params(),
        dataset=lambda wc: wc.dataset,
        model=lambda wc: wc.model,
        seeds=DMF["seeds"],
    script:
        "../workflow_scripts/dmf_evaluate.py"


rule dmf_baselines:
    input:
        data="results/data/{dataset}.h5",
    output:
        seed_outputs("results/dmf/{dataset}/baselines/seed{seed}.json", DMF["seeds"]),
    log:
        "logs/dmf_baselines/{dataset}.log",
    benchmark:
        "results/benchmarks/dmf_baselines/{dataset}.tsv"
    threads: 1
    params:
        **dmf_eval_params(),
        dataset=lambda wc: wc.dataset,
        seeds=DMF["seeds"],
        code_dim=DMF["shared_sizes"][-1],
    script:
        "../workflow_scripts/dmf_baselines.py"


rule dmf_table:
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
        "logs/dmf_table/dmf_{table}.log",
    benchmark:
        "results/benchmarks/dmf_table/dmf_{table}.tsv"
    wildcard_constraints:
        table="|".join(dmf_tables()) or "^$",
    script:
        "../workflow_scripts/dmf_table.py"


rule dmf_svm_table:
    input:
        svm=dmf_runs("encdec", dmf_encdec_datasets(), "evaluation.json"),
        baselines=dmf_baseline_runs(),
        disc=dmf_runs("disc", dmf_encdec_datasets(), "metrics.json"),
    output:
        report(
            "results/tables/dmf_svm.md",
            caption="../report/dmf_svm.rst",
            category="DMF",
        ),
    log:
        "logs/dmf_svm_table/dmf_svm.log",
    benchmark:
        "results/benchmarks/dmf_svm_table/dmf_svm.tsv"
    script:
        "../workflow_scripts/dmf_svm_table.py"


rule dmf_retrieval_table:
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
        "logs/dmf_retrieval_table/dmf_retrieval.log",
    benchmark:
        "results/benchmarks/dmf_retrieval_table/dmf_retrieval.tsv"
    script:
        "../workflow_scripts/dmf_retrieval_table.py"


rule dmf_plot_curves:
    input:
        metrics=dmf_runs("disc", DMF_DATASETS, "metrics.json"),
    output:
        report(
            "results/plots/dmf_curves.png",
            caption="../report/dmf_curves.rst",
            category="DMF",
        ),
    log:
        "logs/dmf_plot_curves/dmf_curves.log",
    benchmark:
        "results/benchmarks/dmf_plot_curves/dmf_curves.tsv"
    script:
        "../workflow_scripts/dmf_plot_curves.py"
