# `make run` and `make test` bootstrap .venv themselves from pyproject.toml.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test clean-data

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required (set PYTHON=...)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m devstack

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

clean-data:
	rm -rf .data

.PHONY: bench chaos scale bench-inbox
bench: $(STAMP)
	$(PY) -m devstack.bench

chaos: $(STAMP)
	$(PY) -m devstack.chaos

scale: $(STAMP)
	$(PY) -m devstack.scale

bench-inbox: $(STAMP)
	$(PY) -m devstack.bench_inbox
