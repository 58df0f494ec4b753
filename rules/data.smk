# Datasets: one HDF5 file per dataset instance (layout: mfas_core/data/schema.py, docs/datasets.md).


rule prepare_data:
    output:
        data="results/data/{dataset}.h5",
    log:
        "logs/prepare_data/{dataset}.log",
    benchmark:
        "results/benchmarks/prepare_data/{dataset}.tsv"
    priority: 10
    threads: 1
    params:
        spec=lambda wc: prepare_spec(wc.dataset),
        seed=config["seed"],
    script:
        "../workflow_scripts/prepare_data.py"
