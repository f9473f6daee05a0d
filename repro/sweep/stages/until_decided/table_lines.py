"""The claim lines a sweep can decide sequentially: each claim of its table (paper_tables/claims.csv, read by
repro/claims/) in each column where the sweep plans every cell it contrasts, with the paper's contrast there; whether
the paper's contrast is decidable within the design's most seeds (from the paper's spread, as the dry run's table of
what the seeds can decide says it); and each line's per-seed contrasts from the finished runs.

A recorded quantity (the paper's words about what the runs record) is judged by the ledger from its measure and is
not sequential: the paper prints no spread for it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from repro.claims.claim import Claim, PaperDifference, term_columns
from repro.claims.decision import LineModel, sequentially_decidable
from repro.claims.load import load_claims
from repro.claims.seed_power import one_image
from repro.claims.sequential import SequentialDesign
from repro.claims.stats import PAIRED
from repro.errors import UserError
from repro.methods.registry import method_declaration
from repro.runs.metrics import is_accuracy, shown_scale
from repro.runs.records import DONE, summary_state
from repro.runs.rundir import RunDir
from repro.sweep.spec.model import PlannedRun, SweepSpec

REPORTED = ("single", "final")  # the stages a table reports


@dataclass(frozen=True)
class ClaimLine:
    """One claim in one of the sweep's columns: its cells (coefficient, row, column) and the paper's contrast."""

    claim: Claim
    anchor: str
    cells: tuple[tuple[int, str, str], ...]
    paper: PaperDifference

    @property
    def margin(self) -> float | None:
        return self.claim.margin

    def model(self, floor: float) -> LineModel | None:
        """The line's fixed-seed test, paired as the design's looks are, from the paper's spread (each cell's std,
        at least `floor`); None where the paper prints no spread for it."""
        spread = self.paper.spread(floor)
        if self.claim.kind.judge is None or spread is None:
            return None
        return LineModel(spread, floor, PAIRED, self.paper.value, self.margin)

    def decidable(self, floor: float, design: SequentialDesign) -> tuple[bool, str]:
        """Whether the paper's contrast is decidable within the design's most seeds (repro/claims/decision.py), from
        the paper's spread; with why not."""
        return sequentially_decidable(self.model(floor), design.max_seeds)


@lru_cache(maxsize=32)
def _table_claims(table: int) -> tuple[Claim, ...]:
    return tuple(load_claims(tables=[table]))


def table_claims(spec: SweepSpec) -> tuple[Claim, ...]:
    """The claims of the sweep's table that compare cells (none for a sweep that is no paper table, or where the
    claims file cannot be read: the sweep still runs its file's seeds)."""
    if spec.table is None:
        return ()
    try:
        claims = _table_claims(int(spec.table))
    except UserError:
        return ()
    return tuple(c for c in claims if not c.kind.needs_measure)


def claim_lines(spec: SweepSpec) -> list[ClaimLine]:
    """Every line the sweep plans all the cells of, in the claims file's order."""
    cells = {(row, column): None for row in spec.rows if row not in spec.needs for column in spec.row_columns(row)}
    lines = []
    for claim in table_claims(spec):
        for anchor in claim.anchors(cells):
            where = zip(claim.terms, term_columns(claim.terms, anchor))
            line_cells = tuple((term.coef, term.row, column) for term, column in where)
            lines.append(ClaimLine(claim, anchor, line_cells, claim.paper_difference(anchor)))
    return lines


def collapse_declared(line: ClaimLine, reported: Mapping[tuple[str, str, int], PlannedRun], seed: int) -> str | None:
    """Why the seeds of a cell of the line may collapse, as the method of the cell's reported run at `seed` declares
    it: the line's boundaries are then the collapse guard's; None where no method of the line declares it."""
    runs = (reported.get((row, column, seed)) for _, row, column in line.cells)
    return next((why for run in runs if run is not None and (why := declares_collapse(run))), None)


def declares_collapse(run: PlannedRun) -> str | None:
    """Why the run's seeds may collapse, as its method declares it (`MethodDeclaration.seeds_may_collapse`); None: not
    known to."""
    name = (run.config.get("method") or {}).get("name")
    return method_declaration(str(name)).seeds_may_collapse(run.config) if name else None


def floor_of(spec: SweepSpec, config: Mapping[str, Any] | None) -> float:
    """One test image in the metric's units (no spread is taken below it)."""
    return one_image(config or {}, is_accuracy(spec.metric))


def reported_runs(runs: list[PlannedRun]) -> dict[tuple[str, str, int], PlannedRun]:
    """(row, column, seed) -> the run a table reports there."""
    return {(r.row, r.column, r.seed): r for r in runs if r.stage in REPORTED}


def finished_values(
    reported: Mapping[tuple[str, str, int], PlannedRun], output_root: Path, metric: str
) -> dict[tuple[str, str, int], float]:
    """(row, column, seed) -> the finished run's metric (percent for an accuracy), for the runs that are done."""
    scale = shown_scale(metric)
    found = {}
    for key, run in reported.items():
        rd = RunDir(Path(output_root) / "runs" / run.run_id)
        if summary_state(rd)[0] != DONE:
            continue
        value = (rd.read_summary() or {}).get(metric)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            found[key] = float(value) * scale
    return found
