# Two-command quick start (README): `make demo` and `make test`. Each sets up .venv from nothing first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo train test test-fast bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/repro demo

train: setup
	$(VENV)/bin/repro train

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow and not slurm"

bench: setup
	$(PY) benchmarks/throughput.py
	$(PY) benchmarks/meta_step.py

clean:
	rm -rf $(VENV) outputs
