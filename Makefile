# The two commands a newcomer runs: `make run` and `make test`.
# Each creates .venv when missing and (re)installs the project only when pyproject.toml changed.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# BLAS stays single-threaded: the numba kernels own the cores (see README, "Threads").
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1

.PHONY: run test setup lint browser bench clean

setup: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: setup
	$(BIN)/tuner run

# Headless Chromium for the report test; installed from Debian's packages when missing.
# A machine where it cannot be installed still runs the suite: that test then skips with the reason.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "note: could not install chromium; the browser test will skip"; }

lint: setup
	$(BIN)/ruff check tuner tests benchmarks
	$(BIN)/ruff format --check tuner tests benchmarks
	$(BIN)/mypy tuner

test: setup browser lint
	$(BIN)/pytest

# Full-size benchmarks (tens of minutes each); numba at 2 threads, BLAS at 1 (see README).
bench: setup
	NUMBA_NUM_THREADS=2 $(BIN)/python benchmarks/data.py --json storage/bench-data.json
	NUMBA_NUM_THREADS=2 $(BIN)/python benchmarks/solvers.py --json storage/bench-solvers.json
	NUMBA_NUM_THREADS=2 $(BIN)/python benchmarks/similarities.py --json storage/bench-similarities.json
	NUMBA_NUM_THREADS=2 $(BIN)/python benchmarks/study.py --json storage/bench-study.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
