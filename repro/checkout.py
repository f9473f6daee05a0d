"""The checkout root: the folder that holds `repro/`, and beside it `analysis/`, `benchmarks/`, `sweeps/`,
`paper_tables/`, `slurm/`, `docs/` and `tests/`. Every module that reads one of those folders starts from here, so no
module counts its own depth below the root (a module that moves keeps its paths right).

In an installed wheel it is the folder holding the installed `repro/` (site-packages), where only the packages are:
the code that reads a folder beside them says so where it is missing."""

from __future__ import annotations

from pathlib import Path

CHECKOUT_ROOT = Path(__file__).resolve().parents[1]  # this file is repro/checkout.py
