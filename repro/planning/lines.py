"""A paper table's claim lines as the planner buys them: for every claim and column its sweep file plans, the cells
it needs, every run those cells need at each seed count (tuning, folds, teachers and mentors: whatever the planned
runs depend on), each run's GPU-hours as the dry run prices it, and the probability that n seeds decide the line
(repro/claims/verdicts.py, `Judge.power_at`) from our own spread where finished runs of its cells exist under the
runs root (repro/planning/our_spread.py), else from the paper's. With K runs per GPU (`--runs-per-gpu K`), each run is
priced packed, as the dry run of `repro sweep --runs-per-gpu K` prices it (repro/sweep/budget/packing.py).

A table's sweep file is planned once, at all its seeds; a line at n seeds takes the file's first n seeds (so the
tuning runs, on the first seed, come with it). Only the seeds the file declares are offered: `repro sweep --seeds`
selects among them."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from repro.checkout import bundled
from repro.claims.claim import Claim, term_columns
from repro.claims.seed_power import one_image
from repro.errors import UserError
from repro.planning.cell_runs import Cell, cell_runs
from repro.planning.choose import Item, Option
from repro.planning.our_spread import FinishedRuns, OurSpread, finished_runs, our_spread
from repro.planning.until_decided import Rounds, collapses, contrast_sd, price_rounds
from repro.runs.metrics import is_accuracy
from repro.sweep.budget.calibration import Calibration
from repro.sweep.budget.costs import estimate
from repro.sweep.dry_run import model_kind
from repro.sweep.protocol.registry import kept_rows
from repro.sweep.run import plan_sweep
from repro.sweep.spec.model import SweepSpec
from repro.sweep.sweep_file import load_sweep

SWEEPS = bundled("sweeps")


@dataclass(frozen=True)
class PlanLine:
    """One claim line (a claim in one anchor column) with what it costs and how likely it is decided."""

    table: int
    claim: str
    column: str
    cells: tuple[Cell, ...]  # its terms' cells, and the cells a stage trains with them (the baseline gate's)
    item: Item
    ours: OurSpread | None = None  # our runs' spread, where P(decision) was priced from it (None: the paper's)

    @property
    def spread_text(self) -> str:
        """Whose spread priced its P(decision): ours (with the runs it rests on) or the paper's."""
        return f"ours ({self.ours.seeds_text})" if self.ours else "paper"

    @property
    def name(self) -> str:
        return f"T{self.table} {self.claim} [{self.column}]"


@dataclass
class PricedTable:
    """A table's plannable lines, the GPU-hours of each run they need, and the lines it cannot plan (why)."""

    table: int
    path: Path
    spec: SweepSpec
    lines: list[PlanLine]
    hours: dict[tuple[int, str], float]  # (table, run id) -> GPU-hours: a run two tables share is paid by each, as
    # each table's `repro sweep` command's dry run prices it
    skipped: list[str]
    needs: dict[tuple[Cell, int], frozenset[str]]  # (cell, seed) -> the run ids it needs
    kept: list[str]  # rows a stage keeps in any selection of rows (the baseline gate's)
    finished: FinishedRuns | None = None  # our finished runs of its cells under the runs root (their spread)
    rounds: Rounds | None = None  # its seeds-until-decided plan, where the plan offers lines that option
    runs_per_gpu: int = 1  # runs packed per GPU its hours were priced at (its commands carry it)
    # (table, run id) -> the run's (model, step kind): what K runs per GPU must fit (repro/sweep/budget/packing.py)
    kinds: dict[tuple[int, str], tuple[str, str]] = field(default_factory=dict)

    def has(self, row: str, column: str) -> bool:
        """Whether the file plans this cell (a row with its own `columns:` plans only those)."""
        return ((row, column), self.spec.seeds[0]) in self.needs

    def runs_of(self, cells: list[Cell], seeds: int) -> frozenset[tuple[int, str]]:
        """Every run `cells` need at the file's first `seeds` seeds (keys as in `hours`)."""
        return frozenset(
            (self.table, rid)
            for cell in cells
            for seed in self.spec.seeds[:seeds]
            for rid in self.needs.get((cell, seed), ())
        )

    def columns(self) -> list[list[Cell]]:
        """The table's cells column by column, in the file's order (every row: what `--columns C` trains)."""
        cells = list(dict.fromkeys(cell for cell, _ in self.needs))
        return [[c for c in cells if c[1] == column] for column in self.spec.columns]


def sweep_file(table: int, sweeps_dir: Path = SWEEPS) -> Path:
    """The sweep file of `table` in `sweeps_dir` (tableN.yaml: the paper's in sweeps/, MNIST-1D's in
    sweeps/mnist1d/)."""
    path = sweeps_dir / f"table{table}.yaml"
    if not path.is_file():
        raise UserError(
            f"There is no sweep file for Table {table} ({path}); a sweeps directory holds one tableN.yaml per table "
            "(sweeps/ the paper's, sweeps/mnist1d/ MNIST-1D's): pick --tables among its files or another "
            "--sweeps-dir."
        )
    return path


def price_table(
    table: int,
    claims: list[Claim],
    cal: Calibration,
    sweeps_dir: Path = SWEEPS,
    runs_root: Path | None = None,
    until_decided: bool = False,
    runs_per_gpu: int = 1,
) -> PricedTable:
    """Plan Table `table`'s sweep file once (nothing trains; a fresh output root, so nothing counts as done) and
    price every claim line of `claims` on it, P(decision) from our spread where `runs_root` holds finished runs of a
    line's cells (two or more per cell), else from the paper's. With `until_decided`, plan it once more from its
    first two seeds with seeds until decided, and offer each line the stage adds seeds to that option too. Each run
    is priced packed `runs_per_gpu` to a GPU."""
    path = sweep_file(table, sweeps_dir)
    spec = load_sweep(path)
    skipped = [f"T{table} row {row!r}: {why}" for row, why in spec.needs.items()]
    if spec.needs:
        spec = spec.select(rows=[r for r in spec.rows if r not in spec.needs])
    with tempfile.TemporaryDirectory() as root:
        plan = plan_sweep(spec, output_root=root)
    hours = {(table, rid): estimate([run], cal, runs_per_gpu=runs_per_gpu).total for rid, run in plan.unique.items()}
    kinds = {(table, rid): model_kind(run.config) for rid, run in plan.unique.items()}
    rounds = price_rounds(table, spec, hours, cal, runs_per_gpu) if until_decided else None
    if rounds is not None:
        hours = {**rounds.hours, **hours}
    needs = cell_runs(plan)
    finished = finished_runs(runs_root, plan.runs, str(spec.metric))
    kept = [row for row in spec.rows if row in kept_rows(spec, None)]  # in the file's order
    configs = {(r.row, r.column): r.config for r in plan.runs}
    percent = is_accuracy(spec.metric)
    lines = []
    for claim in claims:
        anchors = claim.anchors(list(configs))
        if claim.kind.judge is None:
            skipped += [
                f"T{table} {claim.name} [{a}]: a recorded quantity (the paper prints no spread)" for a in anchors
            ]
            continue
        if not anchors:
            skipped.append(f"T{table} {claim.name}: no column of {path.name} holds its cells")
        for anchor in anchors:
            floor = one_image(configs[claim_cells(claim, anchor)[0]], percent)
            ours = our_spread(claim, anchor, finished, floor)
            line = _line(claim, anchor, spec, needs, kept, floor, ours)
            if rounds is not None and not isinstance(line, str):
                line = _with_rounds(claim, line, rounds, floor, [configs[c] for c in line.cells])
            if isinstance(line, str):
                skipped.append(line)
            else:
                lines.append(line)
    return PricedTable(table, path, spec, lines, hours, skipped, needs, kept, finished, rounds, runs_per_gpu, kinds)


def _with_rounds(claim: Claim, line: PlanLine, rounds: Rounds, floor: float, configs: list[dict]) -> PlanLine:
    """The line with seeds until decided among its options, where the stage adds it seeds."""
    paper = claim.paper_difference(line.column)
    spread = line.ours.spread if line.ours else paper.spread(floor)
    option = rounds.option(claim, line.column, line.cells, contrast_sd(spread), floor, collapses(configs))
    if option is None:
        return line
    item = replace(line.item, options=(*line.item.options, option))
    return replace(line, item=item)


def claim_cells(claim: Claim, anchor: str) -> list[Cell]:
    return [(t.row, c) for t, c in zip(claim.terms, term_columns(claim.terms, anchor))]


def _line(
    claim: Claim,
    anchor: str,
    spec: SweepSpec,
    needs: dict[tuple[Cell, int], frozenset[str]],
    kept: list[str],
    floor: float,
    ours: OurSpread | None = None,
) -> PlanLine | str:
    name = f"T{claim.table} {claim.name} [{anchor}]"
    paper = claim.paper_difference(anchor)
    spread = ours.spread if ours else paper.spread(floor)
    judge = claim.kind.judge
    if spread is None or judge is None:
        return f"{name}: the paper prints no std for its cells and our runs give none (two finished a cell)"
    cells = list(dict.fromkeys(claim_cells(claim, anchor)))
    columns = list(dict.fromkeys(c for _, c in cells))
    cells += [(row, c) for row in kept for c in columns if (row, c) not in cells and ((row, c), spec.seeds[0]) in needs]
    options = []
    for n in range(2, len(spec.seeds) + 1):
        power = judge.power_at(paper.value, spread, claim.margin, n)
        if power is None:
            return f"{name}: the paper's contrast is 0 or not printed, so no power to aim at"
        runs = frozenset(
            (claim.table, rid) for cell in cells for seed in spec.seeds[:n] for rid in needs.get((cell, seed), ())
        )
        options.append(Option(n, power, runs))
    if not options:
        return f"{name}: {spec.path} has fewer than 2 seeds, and one seed gives no interval"
    item = Item((claim.table, claim.name, anchor), tuple(options), group=(claim.table, anchor))
    return PlanLine(claim.table, claim.name, anchor, tuple(cells), item, ours)
