"""Our own seed-to-seed spread of a claim line, from the finished runs of its cells under an output root (`repro plan
--runs`), for the planner to price P(decision) by where it exists.

Why: the paper's printed stds are the spread of its runs on its data sets; a data set of our own (MNIST-1D) or our
recipe can spread its seeds far more (MNIST-1D at 40% noise: several points between seeds, where CIFAR's stds are
0.2-0.5), and a plan priced from the paper's spread then overrates what a few seeds decide. Where every cell of a line
has two or more finished runs, the line's test is the one `repro ledger` would judge it with (repro/claims/
judgement.py, `Line.model`: its design, and the sd of its paired per-seed contrasts where the cells share their seeds
and a random draw, else each cell's sd, Welch's, each estimated without bias), and P(decision) at n seeds is what
that test decides (repro/claims/decision.py). A line short of that keeps the paper's.

A run is found by the id the sweep file's expansion gives it (as `repro ledger` finds it), done (summary.json's
state) with the sweep's metric in its summary; a run's recorded design is read from its planned config."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from repro.claims.claim import Claim, term_columns
from repro.claims.decision import LineModel
from repro.claims.judgement import Line, LineCell
from repro.claims.pairing import shared_draws
from repro.claims.stats import CellSample
from repro.runs.metrics import shown_scale
from repro.runs.records import DONE, summary_state
from repro.runs.rundir import RunDir, flatten
from repro.sweep.index import REPORTED_STAGES
from repro.sweep.spec.model import PlannedRun

Cell = tuple[str, str]  # (row, column)
SeedKey = tuple[Cell, int]  # (cell, seed)


@dataclass(frozen=True)
class FinishedRuns:
    """The reported runs of one sweep file that are finished under `root`: each one's metric and planned config."""

    root: Path | None
    values: dict[SeedKey, float]  # (cell, seed) -> the run's metric (percent for an accuracy)
    configs: dict[SeedKey, dict]  # (cell, seed) -> its planned config, flattened (what the design is read from)

    def seeds(self, cell: Cell) -> list[int]:
        return sorted(seed for c, seed in self.values if c == cell)


@dataclass(frozen=True)
class OurSpread:
    """A line's test from our finished runs, and how many runs it rests on (as the ledger says it: "3 paired",
    "3 vs 2")."""

    model: LineModel
    seeds_text: str


def finished_runs(root: Path | None, runs: Iterable[PlannedRun], metric: str) -> FinishedRuns:
    """The finished reported runs of `runs` under `root` (None or no such folder: none)."""
    if root is None or not (Path(root) / "runs").is_dir():
        return FinishedRuns(root, {}, {})
    scale = shown_scale(metric)
    values, configs = {}, {}
    for run in runs:
        if run.stage not in REPORTED_STAGES:
            continue
        rd = RunDir(Path(root) / "runs" / run.run_id)
        if not rd.path.is_dir() or summary_state(rd)[0] != DONE:
            continue
        value = (rd.read_summary() or {}).get(metric)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            key = ((run.row, run.column), run.seed)
            values[key] = float(value) * scale
            configs[key] = flatten(run.config)
    return FinishedRuns(root, values, configs)


def our_spread(claim: Claim, anchor: str, found: FinishedRuns, floor: float) -> OurSpread | None:
    """The line's test from our runs, as the ledger's `Line.model` takes it; None where a cell has fewer than two
    finished runs (no interval: the paper's spread stands)."""
    judge = claim.kind.judge
    if judge is None or not found.values:
        return None
    cells = []
    for term, column in zip(claim.terms, term_columns(claim.terms, anchor)):
        seeds = found.seeds((term.row, column))
        values = tuple(found.values[((term.row, column), s)] for s in seeds)
        cells.append(LineCell(term.row, column, CellSample(term.coef, values, tuple(seeds))))
    if any(cell.sample.n < 2 for cell in cells):
        return None
    configs = [{s: found.configs[((c.row, c.column), s)] for s in c.sample.seeds} for c in cells]
    draws = shared_draws(configs)
    line = Line(claim, anchor, tuple(cells), claim.paper_difference(anchor), judge, floor, shared_draws=draws)
    model = line.model(ours=True)
    return OurSpread(model, line.seeds_text()) if model is not None else None
