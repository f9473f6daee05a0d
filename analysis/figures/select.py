"""Which runs a part of a figure draws: one cell's finished seeds among the sweep cells it declares
(analysis/figures/figure.py `Cells`).

Takes the figure's runs (frame, sweep plans, --where) and a part's cells; gives a RunGroup: the runs of one cell
(row x column of the sweep file, at the declared stage and fold) that differ only in their seed, and a line saying how
they were chosen. The candidates are the finished runs of the declared rows in every column; those of the paper's
columns are kept (every column where the sweep file has none of them, as the digits demo's have not), `--where`
narrows them (analysis/figures/where.py: a key it names frees the paper's columns of it; `sweep.stage` frees the
declared stage and fold, `split.fold` the fold), and the cell with the most finished seeds is drawn (the paper's "mean
and std over three runs"). Two cells that tie, or a --where that matches nothing, is a SelectionError listing the
candidates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from analysis.cells import CellRun
from analysis.figures.figure import Cells, FigureRuns
from analysis.figures.where import ANY, NoMatch, SelectionError, columns_kept, matches, text
from analysis.sweeps import STAGES
from repro.figures.common import RunGroup, Skip
from repro.runs.rundir import RunDir, flatten, result_config

SWEEP_KEYS = {"sweep.stage": "stage", "sweep.row": "row", "sweep.column": "column"}  # read from the plan


@dataclass
class _Cell:
    """A candidate: the finished runs of one (row, column, stage, fold) of the sweep file."""

    row: str
    column: str
    members: list[tuple[int, RunDir, dict]] = field(default_factory=list)  # (seed, run, its config)

    @property
    def config(self) -> dict:
        return self.members[0][2]


def _value(found: CellRun, key: str) -> Any:
    """A --where key's value for a run: its plan's for sweep.stage/row/column, else the run's record."""
    if key in SWEEP_KEYS:
        return getattr(found.planned, SWEEP_KEYS[key])
    value = found.run.get(key) if found.run is not None else None
    return flatten(found.planned.config).get(key) if value is None else value


def _cells(found: Sequence[CellRun], usable: Callable[[RunDir, dict], bool], read: dict[str, tuple]) -> dict:
    """{(row, column, stage, fold): its usable runs}; `read` keeps each run's (RunDir, config) for the next call."""
    cells: dict[tuple, _Cell] = {}
    seen: set[tuple] = set()
    for c in found:
        p = c.planned
        key = (p.row, p.column, p.stage, p.fold)
        if (key, p.run_id) in seen:
            continue
        seen.add((key, p.run_id))
        if p.run_id not in read:
            rd = RunDir(Path(c.run["path"]))
            read[p.run_id] = (rd, rd.read_config())
        rd, config = read[p.run_id]
        if usable(rd, config):
            cells.setdefault(key, _Cell(p.row, p.column)).members.append((int(p.seed), rd, config))
    return cells


def describe_candidates(cells: Sequence[_Cell], limit: int = 8) -> str:
    """One '; '-separated entry per cell: row / column, the config keys on which they differ, seeds, a run id."""
    flats = [flatten(result_config(c.config)) for c in cells]
    keys = sorted(
        {k for f in flats for k in f if k != "seed" and len({json.dumps(x.get(k), default=str) for x in flats}) > 1}
    )
    entries = []
    for c, flat in list(zip(cells, flats))[:limit]:
        differ = " ".join(f"{k}={flat.get(k)}" for k in keys[:6])
        seeds = ", ".join(str(s) for s, _, _ in sorted(c.members, key=lambda m: m[0]))
        entries.append(
            f"{c.row} / {c.column}{': ' + differ if differ else ''} (seeds {seeds}, e.g. {c.members[0][1].run_id})"
        )
    more = f"; and {len(cells) - limit} more" if len(cells) > limit else ""
    return "; ".join(entries) + more


def select_group(
    runs: FigureRuns, name: str, cells: Cells, *, what: str, usable: Callable[[RunDir, dict], bool] = lambda r, c: True
) -> RunGroup:
    """The runs figure part `name` draws among its `cells` (`what` names its kind of run: "finished ... runs");
    see the module docstring. Raises Skip (no candidates at all) or SelectionError."""
    missing = runs.missing_file(cells)
    if missing:
        raise Skip(f"{missing}, whose {cells.describe()} it draws.")
    where = dict(runs.where)
    spec = runs.plans.spec(cells.table)
    narrow: dict[str, Any] = {"stages": STAGES, "fold": None} if "sweep.stage" in where else {}
    if "split.fold" in where:
        narrow["fold"] = None
    found = [c for c in runs.cell_runs(cells, columns=(), **narrow) if c.done]
    read: dict[str, tuple] = {}
    everything = _cells(found, usable, read)
    if not everything:
        raise Skip(f"no {what} in {cells.describe()} of {spec.path}.")
    own = [c for c in cells.columns if c in spec.columns]
    kept = columns_kept(spec, own, where)
    chosen = [
        c
        for c in found
        if (kept is None or c.planned.column in kept)
        and all(matches(_value(c, k), v) for k, v in where.items() if v != ANY)
    ]
    candidates = _cells(chosen, usable, read)
    how = f"{Path(spec.path).name}'s {cells.rows_text()}"
    if where:
        how = f"--where {text(where)} over {how}" + (f" in {', '.join(own)}" if own else "")
    elif cells.columns and not own:
        how += f", as {Path(spec.path).name} has none of the paper's columns ({', '.join(cells.columns)})"
    if not candidates:
        raise NoMatch(
            f"{name}: no {what.split(' (')[0]} matches {how}. The candidates in this output root: "
            f"{describe_candidates(list(everything.values()))}. Change --where, or lift a key of the paper's "
            "columns with key=*."
        )
    ranked = sorted(candidates.values(), key=lambda c: (-len(c.members), min(m[1].run_id for m in c.members)))
    best = [c for c in ranked if len(c.members) == len(ranked[0].members)]
    if len(best) > 1:
        raise SelectionError(
            f"{name}: {how} matches {len(best)} cells of {what.split(' (')[0]} with {len(best[0].members)} finished "
            f"seed(s) each, and a figure draws one: {describe_candidates(best)}. Pick one with `repro figures "
            "--where key=value ...` (e.g. one of the differing keys above)."
        )
    members = sorted(best[0].members, key=lambda m: (m[0], m[1].run_id))
    return RunGroup([m[1] for m in members], members[0][2], f"{how}: {best[0].row} / {best[0].column}", len(ranked) - 1)
