# Every target sets itself up: a virtualenv in .venv with the project installed from pyproject,
# at the tested versions of constraints.txt.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: run test test-slow lint ui bench bench-scaling validate clean realdata realdata-signals

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]' -c constraints.txt
	@touch $@

# deployment profile: local (SQLite, in-process), postgres or kubernetes (deploy/<profile>/)
export SMART_MONEY_PROFILE ?= local

$(DAGSTER_HOME)/dagster.yaml: deploy/$(SMART_MONEY_PROFILE)/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp deploy/$(SMART_MONEY_PROFILE)/dagster.yaml $@

## run: materialize the whole monthly graph on the configured source (default: simulated);
## RUN_ARGS passes options, e.g. RUN_ARGS='--config deploy/realdata/run_config.yaml'
RUN_ARGS ?=
run: $(BIN)/.installed $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/smart-money run $(RUN_ARGS)

## realdata: the whole graph on the public records of ../shared/realdata (2019-01..2022-06, the
## first 700 stocks of its universe, one walk-forward fold per quarter), the model scored on the
## other stocks, docs/real-data/
REALDATA_DIR ?= $(abspath ../shared/realdata)
REALDATA_HOME ?= $(CURDIR)/data/realdata-run
REALDATA_ENV = SMART_MONEY_SOURCE=public_records SMART_MONEY_PUBLIC_RECORDS_DIR=$(REALDATA_DIR) \
	SMART_MONEY_START=2019-01 SMART_MONEY_END=2022-06 SMART_MONEY_SYMBOLS=700 SMART_MONEY_HOME=$(REALDATA_HOME)
realdata: $(BIN)/.installed
	rm -rf $(REALDATA_HOME)  # a fresh registry: the same version and gates on every run
	$(MAKE) run DAGSTER_HOME=$(REALDATA_HOME)/.dagster_home RUN_ARGS='--config deploy/realdata/run_config.yaml' $(REALDATA_ENV)
	$(REALDATA_ENV) $(BIN)/smart-money universe --skip 700 --out $(REALDATA_HOME)/held_out_symbols.txt
	$(REALDATA_ENV) $(BIN)/smart-money evaluate --model latest --symbols @$(REALDATA_HOME)/held_out_symbols.txt \
		--start 2021-12 --end 2022-06 --out docs/real-data/held_out_symbols_test_window.json
	$(REALDATA_ENV) $(BIN)/smart-money records-coverage --start 2019-01 --end 2022-06 --out docs/real-data/coverage.md
	$(REALDATA_ENV) $(BIN)/smart-money models export latest --out docs/real-data \
		--held-out docs/real-data/held_out_symbols_test_window.json

## realdata-signals: the signal study (event time, calendar time) on the public records of
## ../shared/realdata, 2012-01..2022-12, every stock with a price file; its aggregate tables go to
## docs/real-data/signals/ (the events themselves stay under $(REALDATA_HOME)-signals)
SIGNALS_HOME ?= $(REALDATA_HOME)-signals
realdata-signals: $(BIN)/.installed
	SMART_MONEY_SOURCE=public_records SMART_MONEY_PUBLIC_RECORDS_DIR=$(REALDATA_DIR) SMART_MONEY_HOME=$(SIGNALS_HOME) \
		$(BIN)/smart-money signals study --start 2012-01 --end 2022-12 --symbols 5000 --out $(SIGNALS_HOME)/study \
		--plant insider_purchase:100 --plant congress_purchase:100 --plant congress_sale:100 --plant inst_new_position:100
	mkdir -p docs/real-data/signals
	cp $(SIGNALS_HOME)/study/event_study.json $(SIGNALS_HOME)/study/calendar_time.json \
		$(SIGNALS_HOME)/study/event_study_breakdown.json $(SIGNALS_HOME)/study/coverage.json \
		$(SIGNALS_HOME)/study/planted.json $(SIGNALS_HOME)/study/summary.md docs/real-data/signals/

## test: the default test suite (under 10 minutes on 2 cores); test-slow: the long end-to-end
## tests marked `slow` (crash and soak suites ...), which CI runs after it
test: $(BIN)/.installed
	$(BIN)/pytest -n 2 --dist loadgroup -m "not slow"

test-slow: $(BIN)/.installed
	$(BIN)/pytest -n 2 --dist loadgroup -m slow

## lint: ruff (format and rules) and the import-linter layer contracts of pyproject.toml
lint: $(BIN)/.installed
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports

## ui: the Dagster UI and daemon (schedules, backfills) on http://127.0.0.1:3000
ui: $(BIN)/.installed $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

## validate: load the definitions the way the UI does
validate: $(BIN)/.installed $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster definitions validate -w workspace.yaml

## bench: every benchmark plus the two smallest scaling points, into bench/results.json;
## docs/benchmarks.md and docs/scaling.md regenerated from it (duration: docs/benchmarks.md)
bench: $(BIN)/.installed
	$(BIN)/python -m bench.run default
	$(BIN)/python -m bench.scaling_report

## bench-scaling: the whole scaling grid (100..5,000 symbols, 12..60 months), then the docs
bench-scaling: $(BIN)/.installed
	$(BIN)/python -m bench.run scaling
	$(BIN)/python -m bench.scaling_report

clean:
	rm -rf data/assets data/quarantine $(DAGSTER_HOME)
