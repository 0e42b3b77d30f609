# The two commands of the README, and the ones developers use.
#   make demo   set up .venv and run the whole chain on synthetic data
#   make test   set up .venv (and the Debian packages tests need) and run every test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt 2>/dev/null | sha256sum | cut -c1-12)

.PHONY: demo test test-fast test-postgres lint bench system-deps clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: $(STAMP)
	$(BIN)/cohortsafe demo

system-deps:
	@scripts/system-deps.sh

# every core: the slow property tests come in shards that the workers take in turn
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider -n auto --dist worksteal

test: $(STAMP) system-deps
	$(PYTEST)
	scripts/with-postgres.sh $(PYTEST) -m db
	$(MAKE) --no-print-directory lint

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -x -m "not slow"

test-postgres: $(STAMP) system-deps
	scripts/with-postgres.sh $(PYTEST) -m db

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
