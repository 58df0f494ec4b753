# The HTML report (`make report`, i.e. `snakemake --report results/report.html`): the workflow
# description below, then every output wrapped in report() with its caption from report/.
# Tables and plots are wrapped in the rule files that make them.


report: "../report/workflow.rst"
