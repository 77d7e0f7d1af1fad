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

# Benchmarks against the peers, each in its own environment (never the project's): `make bench`
# (5k and 25k images; add SIZES="5000 25000 118000" for the full run, by hand).
SIZES ?= 5000 25000
BENCH_VENVS := bench/.venvs
$(BENCH_VENVS)/globox/bin/python:
	$(PYTHON) -m venv $(BENCH_VENVS)/globox && $(BENCH_VENVS)/globox/bin/pip install --quiet globox
$(BENCH_VENVS)/datumaro/bin/python:
	$(PYTHON) -m venv $(BENCH_VENVS)/datumaro && $(BENCH_VENVS)/datumaro/bin/pip install --quiet "datumaro[cli]"
# Ultralytics without its multi-GB CUDA torch: the CPU build, then ultralytics itself without deps.
$(BENCH_VENVS)/ultralytics/bin/python:
	$(PYTHON) -m venv $(BENCH_VENVS)/ultralytics
	$(BENCH_VENVS)/ultralytics/bin/pip install --quiet torch==2.13.0
	$(BENCH_VENVS)/ultralytics/bin/pip install --quiet --no-deps ultralytics torchvision==0.28.0
	$(BENCH_VENVS)/ultralytics/bin/pip install --quiet opencv-python-headless pillow pyyaml numpy matplotlib scipy \
		psutil polars requests tqdm

bench: $(VENV)/.runtime-stamp $(BENCH_VENVS)/globox/bin/python $(BENCH_VENVS)/datumaro/bin/python \
		$(BENCH_VENVS)/ultralytics/bin/python
	$(BIN)/python benchmarks/run.py --sizes $(SIZES) --runs 3 --venvs $(BENCH_VENVS)

# Hostile-input fuzzing for longer than make test can afford (issue #8): FUZZ_SECONDS=3600 make fuzz
FUZZ_SECONDS ?= 600
fuzz: $(VENV)/.dev-stamp
	$(BIN)/python tools/fuzz.py --seconds $(FUZZ_SECONDS)

lint: $(VENV)/.dev-stamp
	$(BIN)/ruff check dlconvert tests tools

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
