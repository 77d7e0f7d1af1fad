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
	$(BIN)/ruff check dlconvert tests tools benchmarks
	$(BIN)/python -m pytest

# Benchmarks against the peers, each in its own environment (never the project's): `make bench`
# (1k, 5k and 25k images, 3 runs each, median; add SIZES="1000 5000 25000 118000" for the full run, by hand).
# supervision holds a full-size mask per instance (~4 GB at 1k): run.py caps it at 5k and at 75% of RAM.
SIZES ?= 1000 5000 25000
BENCH_VENVS := bench/.venvs
BENCH_PEERS := globox datumaro ultralytics supervision dtlpy
# Each peer venv is stamped only once its install succeeded, so a failed install is retried next time.
$(BENCH_VENVS)/globox/.installed:
	$(PYTHON) -m venv $(@D) && $(@D)/bin/python -m pip install --quiet globox && touch $@
$(BENCH_VENVS)/datumaro/.installed:
	$(PYTHON) -m venv $(@D) && $(@D)/bin/python -m pip install --quiet "datumaro[cli]" && touch $@
# Ultralytics without torchvision's and ultralytics' own deps: torch 2.13.0 (its +cpu wheel where pip can find
# one, e.g. through find-links; from PyPI alone it is the CUDA build, a few GB), ultralytics --no-deps.
$(BENCH_VENVS)/ultralytics/.installed:
	$(PYTHON) -m venv $(@D)
	$(@D)/bin/python -m pip install --quiet torch==2.13.0
	$(@D)/bin/python -m pip install --quiet --no-deps ultralytics torchvision==0.28.0
	$(@D)/bin/python -m pip install --quiet opencv-python-headless pillow pyyaml numpy matplotlib scipy psutil \
		polars requests tqdm
	touch $@
# supervision falls back to slow pure-NumPy drawing without OpenCV, which it does not depend on.
$(BENCH_VENVS)/supervision/.installed:
	$(PYTHON) -m venv $(@D) && $(@D)/bin/python -m pip install --quiet supervision opencv-python-headless && touch $@
# The Dataloop SDK; its COCO export rasterises polygons with cv2 and RLE-encodes binary masks with pycocotools.
$(BENCH_VENVS)/dtlpy/.installed:
	$(PYTHON) -m venv $(@D) && $(@D)/bin/python -m pip install --quiet dtlpy opencv-python-headless pycocotools \
		&& touch $@

bench: $(VENV)/.runtime-stamp $(foreach peer,$(BENCH_PEERS),$(BENCH_VENVS)/$(peer)/.installed)
	$(BIN)/python benchmarks/run.py --sizes $(SIZES) --runs 3 --venvs $(BENCH_VENVS)

# Hostile-input fuzzing for longer than make test can afford (issue #8): FUZZ_SECONDS=3600 make fuzz
FUZZ_SECONDS ?= 600
fuzz: $(VENV)/.dev-stamp
	PYTHONPATH=tests $(BIN)/python -m hostile.fuzz --seconds $(FUZZ_SECONDS)

lint: $(VENV)/.dev-stamp
	$(BIN)/ruff check dlconvert tests tools benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
