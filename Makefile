# Cluster-needs survey toolkit. `make help` lists the targets.
# Only python3, pip and make are assumed: everything else goes into .venv.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ARGS   ?=

.DEFAULT_GOAL := help
.PHONY: help setup report test lint sample template bench clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (analysis)" > /dev/null
	@touch $(STAMP)

setup: $(STAMP) ## Create .venv, install the project (editable) and its Jupyter kernel

report: $(STAMP) ## Run the whole pipeline on data/raw/ (the bundled sample when empty): reports/ and data/processed/
	$(PY) -m analysis run $(ARGS)

test: $(STAMP) ## Run the whole test suite (unit, integration, notebooks)
	$(PY) -m pytest $(ARGS)

lint: $(STAMP) ## Check the code style with ruff
	$(PY) -m ruff check src tests benchmarks

sample: $(STAMP) ## Regenerate the bundled synthetic survey and startup list under data/sample/
	$(PY) -m analysis sample --out data/sample/survey/survey_sample.xlsx --truth data/sample/planted_structure.csv
	$(PY) -m analysis startups-sample --out data/sample/startups/startups_sample.xlsx --truth data/sample/planted_startups.csv

template: $(STAMP) ## Write the blank survey workbook to reports/template/questionario.xlsx
	$(PY) -m analysis template --out reports/template/questionario.xlsx

bench: $(STAMP) ## Run the benchmarks (figures printed, inputs built by the scripts)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean: ## Remove generated reports and processed outputs (never data/raw/)
	rm -rf reports/* data/processed/*
	@touch data/processed/.gitkeep
