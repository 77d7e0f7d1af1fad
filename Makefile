# Two entry points on a fresh machine: `make demo` and `make test`.
# Each bootstraps its own virtual environment from nothing (Python 3.10+, pip).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO_OUT ?= out/demo

.PHONY: demo test lint fuzz bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Runtime install (what a user gets); re-run when pyproject.toml changes.
$(VENV)/.runtime-stamp: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# Development install: tests, linters, the real Dataloop SDK for interop tests.
$(VENV)/.dev-stamp: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(VENV)/.runtime-stamp $@

demo: $(VENV)/.runtime-stamp
	$(BIN)/dlconvert demo $(DEMO_OUT) --overwrite

test: $(VENV)/.dev-stamp
	$(BIN)/ruff check dlconvert tests tools
	$(BIN)/python -m pytest

lint: $(VENV)/.dev-stamp
	$(BIN)/ruff check dlconvert tests tools

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
