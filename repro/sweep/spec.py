"""Sweep files: the public entry points. `load_sweep(path)` reads and checks a file (its structure in
repro/sweep/sweep_file.py, every override composed by `expand_sweep`, repro/sweep/expand.py); `expand_sweep(spec,
...)` turns it into runs. Modules import downwards only: spec -> expand -> (tune, teachers) -> (build, sweep_file)
-> model -> (tune_spec, teacher_ref, out_of_sample_spec)."""

from __future__ import annotations

from pathlib import Path

from repro.sweep.expand import expand_sweep
from repro.sweep.model import METRICS, STAGES, Part, PlannedRun, RowSpec, Scale, SweepSpec
from repro.sweep.sweep_file import parse_sweep, read_sweep

__all__ = [
    "METRICS",
    "STAGES",
    "Part",
    "PlannedRun",
    "RowSpec",
    "Scale",
    "SweepSpec",
    "expand_sweep",
    "load_sweep",
    "parse_sweep",
    "read_sweep",
]


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file; every override is checked against the config tree (Hydra) right away."""
    spec = read_sweep(path)
    expand_sweep(spec, output_root="validate")  # composes and checks every override; cached for the real expansion
    return spec
