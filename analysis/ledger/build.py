"""The ledger from the run frame: each claim (analysis/ledger/claims.py) in each column where both of its cells have
finished runs, with our difference, its interval and the verdict (analysis/ledger/intervals.py).

The cells' runs are found exactly as `repro tables` finds them: each claim's table is built by
analysis.tables.build.build_table from its sweep file (expanded as its last `repro sweep` into the output root ran
it, or with the scale given) and the run frame, so a cell's values are its reported runs (stage single/final) that
are done, each with its seed. A claim the runs cannot answer (no sweep file for its table, a row the sweep does not
plan, no finished run on one side) is one line of `missing`, never an error: a sweep file may leave a paper row out,
and a user may have run one table only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from analysis.cells import index_runs
from analysis.ledger.claims import Claim, PaperDifference
from analysis.ledger.intervals import Comparison, compare
from analysis.tables.build import NOT_STARTED, build_table, expansion_options, paper_or_empty
from analysis.tables.model import Cell, TableResult


@dataclass(frozen=True)
class Entry:
    """One claim in one of our columns."""

    claim: Claim
    column: str  # the better row's column
    worse_column: str
    metric: str
    better: Cell
    worse: Cell
    paper: PaperDifference
    ours: Comparison

    @property
    def verdict(self) -> str:
        return self.ours.verdict(self.paper.side)


@dataclass(frozen=True)
class Missing:
    """A claim (or some of its columns) that the runs cannot answer, and why."""

    claim: Claim
    reason: str


@dataclass
class Ledger:
    source: str
    sweeps: str  # where the sweep files came from, for the reader
    entries: list[Entry] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    expansions: dict[int, str] = field(default_factory=dict)  # per table, the scale its sweep was expanded with


def build_ledger(
    runs: pd.DataFrame,
    specs: Mapping[int, Any],
    claims: Sequence[Claim],
    *,
    output_root: str | Path,
    source: str = "",
    sweeps: str = "",
    scales: Mapping[int, Any] | None = None,
    extra_overrides: Sequence[str] | None = None,
    paper_dir: str | Path | None = None,
) -> Ledger:
    """`specs`: {table number: sweep spec} (analysis/sweeps.py load_specs). With neither `scales` ({table: scale})
    nor `extra_overrides`, each sweep is expanded as its last `repro sweep` into `output_root` ran it."""
    ledger = Ledger(source, sweeps)
    by_id = index_runs(runs)
    for number in dict.fromkeys(c.table for c in claims):
        table_claims = [c for c in claims if c.table == number]
        spec = specs.get(number)
        if spec is None:
            where = f" in {sweeps}" if sweeps else ""
            ledger.missing += [Missing(c, f"no sweep file for Table {number}{where}") for c in table_claims]
            continue
        given = scales.get(number) if scales is not None else None
        scale, extra = expansion_options(output_root, spec, given, extra_overrides)
        result = build_table(
            number,
            spec,
            runs,
            paper_or_empty(number, paper_dir),
            output_root=output_root,
            source=source,
            scale=scale,
            extra_overrides=extra,
            paper_dir=paper_dir,
            by_id=by_id,
        )
        if result.expansion:
            ledger.expansions[number] = result.expansion
        planned = sum(cell.planned for cell in result.cells.values())
        if planned and not result.averaged and all(p.state == NOT_STARTED for p in result.pending):  # not run here
            why = f"none of the {planned} runs Table {number}'s sweep reports is in these runs (not run here yet?)"
            ledger.missing += [Missing(c, why) for c in table_claims]
            continue
        for claim in table_claims:
            entries, missing = claim_entries(claim, result)
            ledger.entries += entries
            ledger.missing += missing
    return ledger


def claim_entries(claim: Claim, result: TableResult) -> tuple[list[Entry], list[Missing]]:
    """The claim in every column where the sweep plans both of its cells and both have finished runs."""
    pairs = []
    for (row, column), cell in result.cells.items():
        other = claim.worse_column(column) if row == claim.better_row and cell.planned else None
        worse = result.cells.get((claim.worse_row, other)) if other is not None else None
        if worse is not None and worse.planned:
            pairs.append((cell, worse))
    if not pairs:
        absent = [r for r in dict.fromkeys((claim.better_row, claim.worse_row)) if not _planned(result, r)]
        why = (
            f"the sweep plans no run of {' or '.join(repr(r) for r in absent)}"
            if absent
            else "the sweep plans no column with both of its cells"
        )
        return [], [Missing(claim, why)]
    entries, unfinished = [], []
    for better, worse in pairs:
        if not better.values or not worse.values:
            unfinished += [f"{c.row} / {c.column} (0 of {c.planned} done)" for c in (better, worse) if not c.values]
            continue
        ours = compare(list(zip(better.seeds, better.values)), list(zip(worse.seeds, worse.values)))
        paper = claim.paper_difference(better.column, worse.column)
        entries.append(Entry(claim, better.column, worse.column, result.metric, better, worse, paper, ours))
    missing = [Missing(claim, "no finished run in " + ", ".join(dict.fromkeys(unfinished)))] if unfinished else []
    return entries, missing


def _planned(result: TableResult, row: str) -> bool:
    return any(cell.planned for (r, _), cell in result.cells.items() if r == row)
