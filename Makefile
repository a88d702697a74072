# Slotbook: `make dev` runs the API locally, `make test` runs everything CI runs.
# Both bootstrap .venv from pyproject.toml on a machine that has only Python 3.11+ and make.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: dev test lint unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

dev: $(STAMP)
	$(PY) -m localdev.server

lint: $(STAMP)
	$(PY) -m ruff check .
	$(VENV)/bin/cfn-lint template.yaml

test: lint
	$(PY) -m pytest -n 2 tests

bench: $(STAMP)
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) bench-out .pytest_cache .ruff_cache
