# Two-command quick start (README): `make demo` and `make test`. Each sets up .venv from nothing first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo train test lint test-fast test-gpu bench doctor clean

setup: $(STAMP)

# Exact versions from requirements/constraints.txt (reproducible); pyproject.toml only states compatible ranges.
# PYTHONWARNINGS hides setuptools' "Editable installation" notice, a screen of asterisks on a newcomer's first run.
$(STAMP): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	PYTHONWARNINGS='ignore:Editable installation' $(PY) -m pip install --quiet -c requirements/constraints.txt -e '.[test]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/repro demo

train: setup
	$(VENV)/bin/repro train

# The suite runs on 3 pytest-xdist workers (one test file per worker at a time, the SLURM tests on two workers
# sharing one local cluster, heaviest first; tests/xdist_groups.py). On the quiet 2-core machine a third worker fills the time the SLURM, W&B and
# signal tests spend waiting: 470 s against 484 s on two (docs/tests.md). TEST_ARGS= (empty) runs it serially;
# TEST_ARGS="-n 6 --dist loadgroup" on a larger machine.
TEST_ARGS ?= -n 3 --dist loadgroup
# Lint and format check first (seconds; pyproject.toml [tool.ruff]), then the suite; the slowest 15 tests at the end,
# so that growth is seen when it happens (docs/tests.md: the tiers and their budgets).
test: setup lint
	$(PY) -m pytest -q --durations=15 $(TEST_ARGS)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test-gpu: setup
	$(PY) -m pytest -q -m gpu

doctor: setup
	$(VENV)/bin/repro doctor

# The inner loop (under 90 s): every test but those marked slow (trains, sweeps or starts processes for more than a
# few seconds) or slurm; `pytest -m slow` / `pytest -m slurm` run those.
test-fast: setup
	$(PY) -m pytest -q --durations=15 -m "not slow and not slurm" $(TEST_ARGS)

bench: setup
	$(PY) -m benchmarks.throughput
	$(PY) -m benchmarks.meta_step

clean:
	rm -rf $(VENV) outputs
