# Cluster-needs survey toolkit. `make help` lists the targets.
# Only python3, pip and make are assumed: everything else goes into .venv.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ARGS   ?=

.DEFAULT_GOAL := help
.PHONY: help setup compile report test browser lint sample template bench clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (analysis)" > /dev/null
	@touch $(STAMP)

# Byte-compile the package: an editable install does not, and without .pyc every command compiles it anew.
compile: $(STAMP) ## Byte-compile the package (setup, report, test and bench do it)
	@$(PY) -m compileall -q src > /dev/null

setup: compile ## Create .venv, install the project (editable) and its Jupyter kernel

report: compile browser ## Run the whole pipeline on data/raw/ (the bundled sample when empty): reports/ (HTML and PDF) and data/processed/
	$(PY) -m analysis run $(ARGS)

test: compile browser ## Run the whole test suite (unit, integration, notebooks, the report in a browser)
	$(PY) -m pytest $(ARGS)

browser: ## Install Debian's chromium (prints the PDF reports, runs the browser test) when missing
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then SUDO=""; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "chromium missing and cannot be installed here: no PDF reports, the browser test will be skipped"; exit 0; fi; \
	  echo "installing chromium (Debian package) for the PDF reports and the browser test..."; \
	  $$SUDO apt-get update -qq >/dev/null 2>&1; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
	    || echo "chromium could not be installed: no PDF reports, the browser test will be skipped"; }

lint: $(STAMP) ## Check the code style with ruff
	$(PY) -m ruff check src tests benchmarks

sample: $(STAMP) ## Regenerate the bundled synthetic survey and startup list under data/sample/
	$(PY) -m analysis sample --out data/sample/survey/survey_sample.xlsx --truth data/sample/planted_structure.csv
	$(PY) -m analysis startups-sample --out data/sample/startups/startups_sample.xlsx --truth data/sample/planted_startups.csv

template: $(STAMP) ## Write the blank survey workbook to reports/template/questionario.xlsx
	$(PY) -m analysis template --out reports/template/questionario.xlsx

bench: compile ## Run the benchmarks (figures printed, inputs built by the scripts)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean: ## Remove generated reports, processed outputs and failed attempts (never data/raw/ nor data/pseudonym.key)
	rm -rf reports/* data/processed/* data/tentativi data/.processed.* data/.analysis-run
	@touch data/processed/.gitkeep
