# MFAS (Pérez-Rúa et al., CVPR 2019) and DMF (Hu et al.) as one reproducible workflow.
# The config is validated against mfas_core/schema.yaml before any rule runs.
from snakemake.utils import min_version, validate

from mfas_core.config import SCHEMA_PATH
from mfas_core.runtime import pin_cpu_kernels

min_version("9.0")
# Same numbers on AVX2 and AVX-512 CPUs: jobs inherit torch's and MKL's kernel choice.
pin_cpu_kernels()


configfile: "config/config.yaml"


validate(config, str(SCHEMA_PATH))


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/backbones.smk"
include: "rules/search.smk"
include: "rules/dmf.smk"
include: "rules/final.smk"
include: "rules/robustness.smk"
include: "rules/report.smk"


# Jobs that only read results and write a table or a plot: run by the main process, never
# one cluster job each.
localrules:
    all,
    tabulate_unimodal,
    summarize_search,
    tabulate_search,
    plot_search,
    plot_architectures,
    tabulate_final,
    plot_final,
    plot_final_flops,
    tabulate_final_robustness,
    plot_final_robustness,
    plot_top1_architecture,
    tabulate_dmf,
    tabulate_dmf_svm,
    tabulate_dmf_retrieval,
    plot_dmf_curves,


rule all:
    default_target: True
    input:
        get_final_outputs(),
