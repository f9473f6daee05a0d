"""`load_sweep(path)`: read a sweep file, check its structure (repro/sweep/spec/sweep_file.py) and compose and check
every override by expanding it (repro/sweep/expand/expand.py)."""

from __future__ import annotations

from pathlib import Path

from repro.sweep.expand.expand import expand_sweep
from repro.sweep.spec.model import SweepSpec
from repro.sweep.spec.sweep_file import read_sweep


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file; every override is checked against the config tree (Hydra) right away."""
    spec = read_sweep(path)
    expand_sweep(spec, output_root="validate")  # composes and checks every override; cached for the real expansion
    return spec
