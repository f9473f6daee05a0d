# Two-command quick start (README): `make demo` and `make test`. Each sets up .venv from nothing first.
# The suite has two tiers (docs/tests.md: what each holds, its budget, how to measure): `make test`, every change's
# check, and `make test-e2e`, the end-to-end checks too costly for every change. .ci/run runs both.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Byte-code is kept, under the venv, even where the environment says not to write it (PYTHONDONTWRITEBYTECODE=1, as
# container images often set): without it every process this Makefile starts (the demo's workers, each test's
# `repro train`, CI's pytest workers) compiled torch's, scikit-learn's and the project's Python from source again,
# 17-23 s for the imports of one training process against 8-10 s (docs/tests.md, "What is expensive is made once").
# The cache lives in $(VENV)/pycache (PYTHONPYCACHEPREFIX), so the checkout gains no __pycache__ folders; `make clean`
# removes it.
export PYTHONDONTWRITEBYTECODE :=
export PYTHONPYCACHEPREFIX := $(abspath $(VENV))/pycache

.PHONY: setup demo train test test-e2e lint test-fast test-gpu bench doctor clean

setup: $(STAMP)

# Exact versions from requirements/constraints.txt (reproducible); pyproject.toml only states compatible ranges.
# PYTHONWARNINGS hides setuptools' "Editable installation" notice, a screen of asterisks on a newcomer's first run.
# The install is most of `make demo`'s first minute (docs/demo.md, "Timing"): --no-compile leaves the byte-code of
# the 6 GB of packages to the first import of each module (a demo imports a fraction of them; it is kept in the
# cache above), and the venv's own pip
# installs (no upgrade of pip first, no check of PyPI for a newer one). Then what the project's processes import is
# imported once (two processes side by side, each its part), so its byte-code is compiled here and not again by each
# of the processes that start side by side later (the suite's workers, the demo's): repro/commands/bytecode.py.
$(STAMP): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	PYTHONWARNINGS='ignore:Editable installation' $(PY) -m pip install --quiet --no-compile --disable-pip-version-check \
		-c requirements/constraints.txt -e '.[test]'
	$(PY) -m repro.commands.bytecode repro analysis --modules torch._dynamo wandb
	touch $(STAMP)

demo: setup
	$(VENV)/bin/repro demo

train: setup
	$(VENV)/bin/repro train

# The suite runs on 3 pytest-xdist workers (one test file per worker at a time, the SLURM tests on two workers
# sharing one local cluster, heaviest first; tests/xdist_groups.py). On the quiet 2-core machine a third worker fills
# the time the SLURM, W&B and signal tests spend waiting (docs/tests.md). TEST_ARGS= (empty) runs it serially;
# TEST_ARGS="-n 6 --dist loadgroup" on a larger machine.
TEST_ARGS ?= -n 3 --dist loadgroup
# The second tier: the tests marked `e2e` (end-to-end checks: whole commands, real processes killed, trainings
# to a measured bound) or `slurm` (they start the local SLURM cluster: root and apt-get). The first tier is the
# rest (tests/cpu_seconds.py knows the same).
TIER2 := e2e or slurm
# Every change's check (under 5 minutes on 2 quiet cores): lint and format first (seconds; pyproject.toml
# [tool.ruff]), then the first tier. The slowest 15 tests and each test's CPU seconds over its bound are printed at
# the end (tests/cpu_seconds.py), so that growth is seen when it happens; -rfE names every failed or erroring test
# in the summary at the end, which .ci/run keeps in .ci/logs/.
test: setup lint
	$(PY) -m pytest -q -rfE --durations=15 -m "not ($(TIER2))" $(TEST_ARGS)

# The second tier (under 9 minutes on 2 quiet cores). pytest's exit 5 means no test was selected: a tier emptied
# by design is no failure (pytest prints "no tests ran").
test-e2e: setup
	$(PY) -m pytest -q -rfE --durations=15 -m "$(TIER2)" $(TEST_ARGS) || [ $$? -eq 5 ]

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test-gpu: setup
	$(PY) -m pytest -q -m gpu

doctor: setup
	$(VENV)/bin/repro doctor

# The inner loop (under 90 s): the first tier but its tests marked slow (trains, sweeps or starts processes for more
# than a few seconds); `pytest -m slow` runs those.
test-fast: setup
	$(PY) -m pytest -q --durations=15 -m "not slow and not ($(TIER2))" $(TEST_ARGS)

bench: setup
	$(PY) -m benchmarks.throughput
	$(PY) -m benchmarks.meta_step

clean:
	rm -rf $(VENV) outputs
