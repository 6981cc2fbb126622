# `make test` is the project's test command: README, .ci/run and GitHub Actions all run exactly it.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.12 (the Lambda runtime) when this machine has one that runs, else python3.
PYTHON ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 python3; do \
	"$$p" -c 'import sys; assert sys.version_info >= (3, 11)' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help venv lint test demo bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "no Python >= 3.11 found"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(STAMP)  ## create .venv with the project and its dev tools

lint: $(STAMP)  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint lint-sql check-athena chromium  ## lint, then the whole test suite
	$(BIN)/pytest

demo: $(STAMP)  ## the whole pipeline on a generated week of a group: webhook, ETL, dbt, report
	$(BIN)/tgpipe demo --lake lake/demo

bench: $(STAMP)  ## the benchmarks under bench/, printing figures
	$(BIN)/python bench/webhook_bench.py

clean:  ## remove the environment and local lake
	rm -rf $(VENV) lake .pytest_cache .mypy_cache .ruff_cache

.PHONY: lint-sql check-athena

lint-sql: $(STAMP)  ## sqlfluff on the dbt models (Athena dialect, jaffle-shop style)
	cd dbt_project && ../$(BIN)/sqlfluff lint models

check-athena: $(STAMP)  ## dbt parse + compile for Athena offline; sqlglot checks the SQL
	$(BIN)/python dbt_project/scripts/check_athena_sql.py

.PHONY: chromium

# The report's browser test drives a system Chromium (Debian's package); playwright never downloads one.
chromium:  ## install Debian's chromium when no Chromium/Chrome is on the PATH
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji; }
