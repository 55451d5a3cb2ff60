# Two commands do everything on a fresh machine with Python 3.11+:
#   make run   - virtualenv, install, migrate, demo data, portal on http://127.0.0.1:8000
#   make test  - install what the tests need, run the whole suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-test migrate demo lint check clean stress

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed: make PYTHON=/path/to/python3.11 run")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

run: demo
	@echo "Contracts portal on http://$(HOST):$(PORT)/ with web, a Celery worker and beat  (Ctrl-C stops all three)"
	$(BIN)/python manage.py runportal --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The long reliability runs (tests/reliability with STRESS=long): concurrency storm,
# property-based model, fuzzing and authorization, on PostgreSQL (DATABASE_URL);
# their figures are written to reports/reliability/ and rendered into docs/reliability.md.
stress: install-test
	@case "$$DATABASE_URL" in postgres://*|postgresql://*) ;; \
	  *) echo "make stress runs on PostgreSQL: set DATABASE_URL=postgres://user@host:5432/dbname" >&2; exit 1 ;; esac
	rm -rf reports/reliability
	@# The figures are rendered even when a test fails; make stress still fails then.
	RELIABILITY_REPORT_DIR=reports/reliability STRESS=long $(BIN)/python -m pytest -p no:cacheprovider \
	  tests/reliability $(PYTEST_ARGS); status=$$?; \
	  $(BIN)/python -m tests.reliability.report reports/reliability docs/reliability.md; exit $$status

# Benchmarks at scale (bench/): needs PostgreSQL and Redis running. Drops and creates
# the bench database, generates the data set, measures the five figures against their
# floors and writes docs/benchmarks.md. wrk (the load generator) is installed if missing.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/contracts_portal_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/5
.PHONY: bench
bench: install
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk </dev/null; }
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python -W ignore::UserWarning -m bench

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache  # the import contracts in pyproject.toml
	$(BIN)/bandit -q -c pyproject.toml -r accounts contracts contracts_portal billing offers
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) db.sqlite3 celery-broker.sqlite3 celerybeat-schedule* staticfiles
