# Dense Multimodal Fusion (Hu et al.): EMF / IMF / DMF networks, Table 1, SVM, retrieval, Fig. 4.


rule dmf_train:
    input:
        data="results/data/{dataset}.h5",
    output:
        model="results/dmf/{dataset}/{variant}/{model}/seed{seed}/model.pt",
        metrics="results/dmf/{dataset}/{variant}/{model}/seed{seed}/metrics.json",
    log:
        "logs/dmf_train/{dataset}/{variant}/{model}/seed{seed}.log",
    benchmark:
        "results/benchmarks/dmf_train/{dataset}/{variant}/{model}/seed{seed}.tsv"
    threads: DMF["threads"]
    resources:
        gpu=GPU,
    params:
        dataset=lambda wc: wc.dataset,
        variant=lambda wc: wc.variant,
        model=lambda wc: wc.model,
        seed=lambda wc: int(wc.seed),
        damage=lambda wc: dataset_spec(wc.dataset).get("damage"),
        modality_sizes=DMF["modality_sizes"],
        shared_sizes=DMF["shared_sizes"],
        epochs=DMF["epochs"],
        min_steps=DMF["min_steps"],
        batch_size=DMF["batch_size"],
        lr=lambda wc: DMF["lr"] if wc.variant == "disc" else DMF["encdec_lr"],
        weight_decay=DMF["weight_decay"],
        max_train=DMF["max_train"],
        rbm_pretrain=DMF["rbm_pretrain"],
        rbm_epochs=DMF["rbm_epochs"],
        modality_dropout=DMF["modality_dropout"],
        device=config["device"],
    script:
        "../workflow_scripts/dmf_train.py"


rule dmf_svm:
    input:
        model="results/dmf/{dataset}/encdec/{model}/seed{seed}/model.pt",
        data="results/data/{dataset}.h5",
    output:
        "results/dmf/{dataset}/encdec/{model}/seed{seed}/svm.json",
    log:
        "logs/dmf_svm/{dataset}/{model}/seed{seed}.log",
    benchmark:
        "results/benchmarks/dmf_svm/{dataset}/{model}/seed{seed}.tsv"
    threads: 1
    params:
        dataset=lambda wc: wc.dataset,
        model=lambda wc: wc.model,
        seed=lambda wc: int(wc.seed),
        svm_c=DMF["svm_c"],
        svm_kernel=DMF["svm_kernel"],
        svm_max_train=DMF["svm_max_train"],
        device=config["device"],
    script:
        "../workflow_scripts/dmf_svm.py"


rule dmf_retrieval:
    input:
        model="results/dmf/{dataset}/encdec/{model}/seed{seed}/model.pt",
        data="results/data/{dataset}.h5",
    output:
        "results/dmf/{dataset}/encdec/{model}/seed{seed}/retrieval.json",
    log:
        "logs/dmf_retrieval/{dataset}/{model}/seed{seed}.log",
    benchmark:
        "results/benchmarks/dmf_retrieval/{dataset}/{model}/seed{seed}.tsv"
    threads: 1
    params:
        dataset=lambda wc: wc.dataset,
        model=lambda wc: wc.model,
        seed=lambda wc: int(wc.seed),
        max_queries=DMF["retrieval_max_queries"],
        device=config["device"],
    script:
        "../workflow_scripts/dmf_retrieval.py"


rule dmf_table:
    input:
        metrics=dmf_runs("disc", dmf_mnist_datasets(), "metrics.json"),
    output:
        "results/tables/dmf_mnist.md",
    log:
        "logs/dmf_table/dmf_mnist.log",
    benchmark:
        "results/benchmarks/dmf_table/dmf_mnist.tsv"
    script:
        "../workflow_scripts/dmf_table.py"


rule dmf_svm_table:
    input:
        svm=dmf_runs("encdec", dmf_encdec_datasets(), "svm.json"),
        disc=dmf_runs("disc", dmf_encdec_datasets(), "metrics.json"),
    output:
        "results/tables/dmf_svm.md",
    log:
        "logs/dmf_svm_table/dmf_svm.log",
    benchmark:
        "results/benchmarks/dmf_svm_table/dmf_svm.tsv"
    script:
        "../workflow_scripts/dmf_svm_table.py"


rule dmf_retrieval_table:
    input:
        retrieval=dmf_runs("encdec", dmf_encdec_datasets(), "retrieval.json"),
    output:
        "results/tables/dmf_retrieval.md",
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
        "results/plots/dmf_curves.png",
    log:
        "logs/dmf_plot_curves/dmf_curves.log",
    benchmark:
        "results/benchmarks/dmf_plot_curves/dmf_curves.tsv"
    script:
        "../workflow_scripts/dmf_plot_curves.py"
