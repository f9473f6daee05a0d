"""The ledger from the run frame: each claim (repro/claims/, paper_tables/claims.csv) in each of our columns where
every cell it contrasts has finished runs, judged by repro/claims/judgement.py.

The cells' runs are found exactly as `repro tables` finds them: from each claim's table's results index
(repro/sweep/index.py, through analysis/sweeps.py: its sweep file expanded once, as its last `repro sweep` into the
output root ran it or with the scale given, its stages' decisions, joined to the run frame), so a cell's values are
its reported runs (stage single/final) that are done, less those a stage let go as not needed, each with its seed
(analysis/ledger/cells.py). A recorded claim reads its measure (analysis/ledger/measures.py) from the same cell's
runs (or its fold runs). A claim the runs cannot answer (no sweep file for its table, a row the sweep does not
plan, no finished run in a cell) is one line of `missing`, never an error: a sweep file may leave a paper row out,
and a user may have run one table only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from analysis.cells import REPORTED_STAGES, index_runs
from analysis.ledger.cells import CellValues, cell_values
from analysis.ledger.likeness import cited_notes, line_notes
from analysis.ledger.measures import measure
from analysis.ledger.variance import SeedSources, seed_sources
from analysis.sweeps import SweepIndex, SweepIndexes, never_ran_here
from analysis.tables.paper import paper_or_empty
from repro.claims.claim import Claim, term_columns
from repro.claims.judgement import ClaimJudgement, Line, LineCell, choose_designs, judge_claims
from repro.claims.pairing import shared_draws
from repro.claims.seed_power import one_image
from repro.claims.sequential_record import read_record
from repro.claims.stats import CellSample, Design
from repro.runs.metrics import is_accuracy
from repro.runs.rundir import flatten


@dataclass(frozen=True)
class Missing:
    """A claim (or some of its columns) that the runs cannot answer, and why."""

    claim: Claim
    reason: str


@dataclass
class Ledger:
    source: str
    sweeps: str  # where the sweep files came from, for the reader
    lines: list[Line] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    expansions: dict[int, str] = field(default_factory=dict)  # per table, the scale its sweep was expanded with
    designs: dict[int, tuple[Design | None, str]] = field(default_factory=dict)  # per table: its design(s), and why
    seeds: dict[int, SeedSources] = field(default_factory=dict)  # per table, what its seeds redraw
    claims: list[ClaimJudgement] = field(default_factory=list)
    sequential: dict[int, str] = field(default_factory=dict)  # per table whose sweep added seeds until decided: how
    line_sequential: dict[tuple[int, str, str], str] = field(default_factory=dict)  # (table, claim, column) -> state


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
    indexes: SweepIndexes | None = None,
) -> Ledger:
    """`specs`: {table number: sweep spec} (analysis/sweeps.py load_specs). With neither `scales` ({table: scale})
    nor `extra_overrides`, each sweep is expanded as its last `repro sweep` into `output_root` ran it. `indexes`:
    the sweeps' results indexes, where the command built them already."""
    ledger = Ledger(source, sweeps)
    if indexes is None:
        options = {n: (scales.get(n) if scales is not None else None, extra_overrides) for n in specs}
        indexes = SweepIndexes(dict(specs), index_runs(runs), output_root, options=options)
    for number in dict.fromkeys(c.table for c in claims):
        table_claims = [c for c in claims if c.table == number]
        absent = _no_sweep_here(number, specs, indexes, output_root, sweeps)
        index = indexes.index(number) if not absent else None
        if index is None:
            ledger.missing += [Missing(c, absent or f"no sweep file for Table {number}") for c in table_claims]
            continue
        if index.expansion:
            ledger.expansions[number] = index.expansion
        table = TableRuns(index, cell_values(index, paper_or_empty(number, paper_dir)))
        if table.not_run_here():
            planned = sum(cell.planned for cell in table.cells.values())
            why = f"none of the {planned} runs Table {number}'s sweep reports is in these runs (not run here yet?)"
            ledger.missing += [Missing(c, why) for c in table_claims]
            continue
        lines = []
        for claim in table_claims:
            found, missing = table.claim_lines(claim)
            lines += found
            ledger.missing += missing
        _sequential(ledger, number, index.folder, lines)
        if lines:
            ledger.designs[number] = choose_designs(lines)
            ledger.seeds[number] = seed_sources(table.configs_by_cell())
        ledger.lines += lines
    ledger.claims = judge_claims(ledger.lines)
    return ledger


def _no_sweep_here(
    number: int, specs: Mapping[int, Any], indexes: SweepIndexes, output_root: str | Path, sweeps: str
) -> str:
    """Why Table `number`'s claims cannot be answered before its sweep is expanded: no sweep file, or one none of
    whose runs is here (`never_ran_here`: no expansion, which for a CIFAR sweep file composes thousands of configs);
    "" where its results index is to be read."""
    if number not in specs:
        return f"no sweep file for Table {number}" + (f" in {sweeps}" if sweeps else "")
    spec = specs[number]
    if number not in indexes.planned and never_ran_here(spec, output_root, indexes.records):
        return f"no run here was planned by Table {number}'s sweep file ({spec.name}; not run here yet?)"
    return ""


def _sequential(ledger: Ledger, number: int, folder: Path | None, lines: list[Line]) -> None:
    """What the table's `repro sweep --until-decided` decided of each line (its sweep folder's record): the line's
    verdict and Holm's p (Line.verdict, Line.p_value), at which seeds and look (its notes), by which design (under
    the table). Read as the stage recorded it, never judged again."""
    design, records = read_record(folder) if folder is not None else ("", {})
    if not design:
        return
    ledger.sequential[number] = design
    for line in lines:
        record = records.get((number, line.claim.name, line.anchor))
        if record is not None:
            ledger.line_sequential[(number, line.claim.name, line.anchor)] = record.text()
            line.notes.insert(0, record.note())  # beside the verdict it explains
            line.sequential = record


@dataclass
class TableRuns:
    """One table's cells (their values with their seeds, analysis/ledger/cells.py) and its results index."""

    index: SweepIndex
    cells: dict[tuple[str, str], CellValues]

    @property
    def expanded(self) -> list[Any]:
        return self.index.runs

    @property
    def not_run(self) -> dict[str, str]:
        return dict(getattr(self.index.spec, "not_run", {}) or {})

    @property
    def percent(self) -> bool:
        return is_accuracy(self.index.spec.metric)

    def not_run_here(self) -> bool:
        """The sweep reports runs, and none of them is in the run frame (another output root, or not run yet)."""
        reported = self.index.reported()
        return bool(reported) and all(c.run is None for c in reported)

    def reported(self, row: str, column: str) -> list[Any]:
        return [p for p in self.expanded if p.stage in REPORTED_STAGES and (p.row, p.column) == (row, column)]

    def configs_by_cell(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        found: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for p in self.expanded:
            if p.stage in REPORTED_STAGES:
                found.setdefault((p.row, p.column), []).append(p.config)
        return found

    def seed_configs(self, cell: LineCell) -> dict[Any, dict[str, Any]]:
        """{seed: the run's config, flattened} for the cell's reported runs of its seeds: as the run recorded it
        (config.yaml, in the run frame), or as planned where the frame lacks the run. What the design is read from."""
        seeds = set(cell.sample.seeds)
        return {
            p.seed: self.index.records[p.run_id] if p.run_id in self.index.records else flatten(p.config)
            for p in self.reported(cell.row, cell.column)
            if p.seed in seeds
        }

    def planned_cells(self) -> dict[tuple[str, str], None]:
        """(row, column) of every cell the sweep plans, in the table's order."""
        return {key: None for key, cell in self.cells.items() if cell.planned}

    def claim_lines(self, claim: Claim) -> tuple[list[Line], list[Missing]]:
        anchors = claim.anchors(self.planned_cells())
        if not anchors:
            return [], [Missing(claim, self._why_absent(claim))]
        lines, unfinished = [], []
        for anchor in anchors:
            where = [(term.row, column) for term, column in zip(claim.terms, term_columns(claim.terms, anchor))]
            found = [self._cell(claim, row, column, term.coef) for term, (row, column) in zip(claim.terms, where)]
            if any(cell is None for cell in found):
                unfinished += [self._unfinished(row, column) for (row, column), c in zip(where, found) if c is None]
                continue
            first = self.reported(claim.terms[0].row, anchor)
            floor = self._floor(claim, first[0].config if first else {})
            recorded = measure(claim.measure, f"Table {claim.table}, {claim.name}") if claim.measure else None
            cells = tuple(cell for cell in found if cell is not None)
            line = Line(
                claim,
                anchor,
                cells,
                claim.paper_difference(anchor),
                recorded.judge if recorded else claim.kind.judge,
                floor,
                unit=recorded.unit if recorded else ("points" if self.percent else str(self.index.spec.metric)),
                shared_draws=shared_draws([self.seed_configs(cell) for cell in cells]),
            )
            line.notes += line_notes(claim, [self.reported(c.row, c.column) for c in line.cells])
            line.notes += cited_notes(line.paper, self.index.notes.paper_cells)
            lines.append(line)
        missing = [Missing(claim, "no finished run in " + ", ".join(dict.fromkeys(unfinished)))] if unfinished else []
        return lines, missing

    def _cell(self, claim: Claim, row: str, column: str, coef: int) -> LineCell | None:
        """The cell's finished runs (a recorded claim: its measure's per-seed values); None: none finished."""
        if claim.measure:
            found = measure(claim.measure, f"Table {claim.table}, {claim.name}").per_seed(self.index, row, column)
            values = found["values"]
            sample = CellSample(coef, tuple(values.values()), tuple(values))
            return LineCell(row, column, sample, found["runs"]) if values else None
        cell = self.cells.get((row, column))
        if cell is None or not cell.values:
            return None
        ids = {p.seed: p.run_id for p in self.reported(row, column)}
        sample = CellSample(coef, tuple(cell.values), tuple(cell.seeds))
        return LineCell(row, column, sample, tuple(ids.get(s, "") for s in cell.seeds))

    def _floor(self, claim: Claim, config: Any) -> float:
        if claim.measure:
            return measure(claim.measure, f"Table {claim.table}, {claim.name}").resolution(config)
        return one_image(config, self.percent)

    def _unfinished(self, row: str, column: str) -> str:
        cell = self.cells.get((row, column))
        return f"{row} / {column} (0 of {cell.planned if cell is not None else 0} done)"

    def _why_absent(self, claim: Claim) -> str:
        planned_rows = {row for row, _ in self.planned_cells()}
        absent = [row for row in claim.rows if row not in planned_rows]
        if not absent:
            return "the sweep plans no column with every cell of the claim"
        reasons = [f"{row!r} is not run: {self.not_run[row]}" for row in absent if row in self.not_run]
        if reasons:
            return "; ".join(reasons)
        return f"the sweep plans no run of {' or '.join(repr(r) for r in absent)}"
