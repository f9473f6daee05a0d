"""Sweeps: a paper table's runs (rows x columns x seeds, and the 5-fold protocol's stages), planned idempotently and
run locally or submitted to SLURM through submitit. `repro sweep FILE` / `repro sweep status FILE` (command.py)."""

from __future__ import annotations

from repro.sweep.plan import Plan
from repro.sweep.run import run_sweep
from repro.sweep.spec import PlannedRun, Scale, SweepSpec, expand_sweep, load_sweep
from repro.sweep.status import sweep_status

__all__ = ["Plan", "PlannedRun", "Scale", "SweepSpec", "expand_sweep", "load_sweep", "run_sweep", "sweep_status"]
