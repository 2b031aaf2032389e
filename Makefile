# Every target sets itself up: a virtualenv in .venv with the project installed from pyproject.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: run test ui bench validate clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

# deployment profile: local (SQLite, in-process), postgres or kubernetes (deploy/<profile>/)
export SMART_MONEY_PROFILE ?= local

$(DAGSTER_HOME)/dagster.yaml: deploy/$(SMART_MONEY_PROFILE)/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp deploy/$(SMART_MONEY_PROFILE)/dagster.yaml $@

## run: materialize the whole monthly graph on the configured source (default: simulated)
run: $(BIN)/.installed $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/smart-money run

## test: the test suite
test: $(BIN)/.installed
	$(BIN)/pytest -n 2

## ui: the Dagster UI and daemon (schedules, backfills) on http://127.0.0.1:3000
ui: $(BIN)/.installed $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

## validate: load the definitions the way the UI does
validate: $(BIN)/.installed
	$(BIN)/dagster definitions validate -w workspace.yaml

## bench: benchmarks; results in bench/results.json, scaling tables and plots in docs/
bench: $(BIN)/.installed
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.scaling_report

clean:
	rm -rf data/assets data/quarantine $(DAGSTER_HOME)
