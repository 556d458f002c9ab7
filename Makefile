# Two commands on a fresh machine: `make demo` and `make test`. Each installs what it needs with uv.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := .venv
DBT_MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project/models dbt_project/macros dbt_project/seeds -type f 2>/dev/null) dbt_project/dbt_project.yml

export AIRFLOW__COSMOS__ENABLE_TELEMETRY ?= False
export DO_NOT_TRACK ?= 1
export DBT_SEND_ANONYMOUS_USAGE_STATS ?= False
# The tests (and the image-build check) find uv where this Makefile installed it.
export PATH := $(dir $(UV)):$(PATH)

.PHONY: env demo test test-fast lint bench clean help compose-config bi airflow-ui

help:
	@echo "make demo   - sample reports for all 63 provinces, the real Airflow DAG per month, the alert"
	@echo "make test   - the test suite (real PostgreSQL, dbt, Airflow, GX, SMTP)"
	@echo "make test-fast - the unit tests of tests/unit/: no database, dbt or Airflow (seconds)"
	@echo "make lint   - ruff check, ruff format --check, import contracts, sqlfluff on the dbt SQL, mypy"
	@echo "make bench  - the benchmarks at a size that finishes in minutes (BENCH_SIZE=--full: national scale)"
	@echo "make bi     - Superset with the dashboards of bi/ on the marts (after make demo)"
	@echo "make airflow-ui - the Airflow UI on the runs ntp run / make demo made"

$(UV):
	@echo "· installing uv"
	@$(PYTHON) -m pip install --user --quiet uv 2>/dev/null || \
		$(PYTHON) -m pip install --user --quiet --break-system-packages uv 2>/dev/null || \
		$(PYTHON) -m pip install --quiet uv
	@# pip may have put (or found) uv elsewhere: link its binary where this Makefile looks.
	@mkdir -p $(dir $(UV)); test -x $(UV) || ln -sf "$$($(PYTHON) -c 'import uv; print(uv.find_uv_bin())')" $(UV)
	@test -x $(UV) || { echo "could not install uv (tried pip install --user uv)"; exit 1; }

# --compile-bytecode: the .pyc files are written once here, so every Python process (airflow, dbt, the
# tests) imports compiled modules even where PYTHONDONTWRITEBYTECODE is set (`import airflow` 7 s -> 3 s).
$(VENV)/.synced: $(UV) pyproject.toml uv.lock Makefile
	$(UV) sync --frozen --extra dev --compile-bytecode
	@touch $@

$(DBT_MANIFEST): $(VENV)/.synced $(DBT_SOURCES)
	cd dbt_project && ../$(VENV)/bin/dbt parse --profiles-dir . --quiet
	@touch $@

# Superset's own environment and its initialised metadata template (for make bi and the BI tests).
BI_READY := .venv-bi/.ready
$(BI_READY): $(VENV)/.synced bi/requirements.txt ntp/bi.py
	$(VENV)/bin/ntp bi --setup
	@touch $@

env: $(VENV)/.synced $(DBT_MANIFEST)

demo: env
	$(VENV)/bin/ntp demo

test: env $(BI_READY)
	$(VENV)/bin/pytest -q -n 2 --dist loadfile

# Parsing, numbers, text folding, periods, contracts, the rule registry, the import layers: no database.
test-fast: env
	$(VENV)/bin/pytest -q tests/unit

# Superset (own venv .venv-bi, state under $$NTP_DATA_DIR/superset) as the read-only role ntp_bi; Ctrl-C stops it.
bi: env $(BI_READY)
	$(VENV)/bin/ntp bi

# Airflow's api-server on the embedded path's metadata ($$NTP_DATA_DIR/airflow); Ctrl-C stops it.
airflow-ui: env
	$(VENV)/bin/ntp airflow-ui

# The same checks as .pre-commit-config.yaml: Python style and format, the import contracts (pyproject.toml),
# the SQL of the dbt project (.sqlfluff: jinja templater with dbt's builtins, no database) and the types.
lint: env
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	@# the two slow checks side by side (sqlfluff on two processes, mypy beside it); either failing fails lint
	@$(VENV)/bin/mypy & mypy=$$!; \
	$(VENV)/bin/sqlfluff lint dbt_project/models dbt_project/macros --processes 2; sql=$$?; \
	wait $$mypy; types=$$?; test $$sql -eq 0 -a $$types -eq 0

# make bench: every benchmark at the small size (minutes in all); make bench BENCH_SIZE=--full: national scale
BENCH_SIZE ?= --quick
bench: env
	@for b in bench/bench_*.py; do echo "== $$b $(BENCH_SIZE)"; $(VENV)/bin/python $$b $(BENCH_SIZE) || exit 1; done

compose-config:
	docker-compose --env-file .env.example config -q && echo "docker-compose.yml is valid"

clean:
	rm -rf dbt_project/target dbt_project/logs .pytest_cache
