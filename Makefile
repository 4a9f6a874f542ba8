# One-command entry points for a fresh machine: `make run`, `make test`, `make bench`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test test-fast bench clean

# torch is pinned here (the CPU wheel this machine has on disk) and installed before the
# package, whose own requirement stays a range; a bare `torch` could pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# The main job: certify the shipped instances and compare l^p training against the proven optimum
# (a small sweep: 2 seeds, p = 0.4 and 1.0, 10k steps; l^p vs weight decay vs none).
RUN_INSTANCES := peak_plateau zigzag convex_square collinear_run square_corners_2d planted_2d_n10
run: setup
	$(BIN)/sparsest certify instances/*.json
	$(BIN)/sparsest compare $(RUN_INSTANCES:%=instances/%.json) --p 0.4 1.0 --seeds 2 --steps 10000 --jobs 2 --out out/run

# The full suite (what CI runs), with the slowest tests listed at the end.
test: setup
	$(BIN)/python -m pytest -q -n 2 --durations=15

# The cross-checks that matter most, in about a minute: everything not marked slow.
test-fast: setup
	$(BIN)/python -m pytest -q -n 2 -m "not slow"

bench: setup
	$(BIN)/python -m benchmarks.run_all

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .hypothesis
