"""A paper table's claim lines as the planner buys them: for every claim and column its sweep file plans, the cells
it needs, every run those cells need at each seed count (tuning, folds, teachers and mentors: whatever the planned
runs depend on), each run's GPU-hours as the dry run prices it, and the ledger's test of the line (repro/claims/
decision.py, `LineModel`): the design the ledger will choose for the planned runs (repro/claims/pairing.py), and the
spread, ours where finished runs of its cells exist under the runs root (repro/planning/our_spread.py), else the
paper's, else a prior (a cell printed without a std: the largest its column prints, repro/claims/paper.py). With K
runs per GPU (`--runs-per-gpu K`), each run is priced packed, as the dry run of `repro sweep --runs-per-gpu K`
prices it (repro/sweep/budget/packing.py).

A table's sweep file is planned once, at all its seeds (its expansion kept, repro/planning/expansions.py); a line at
n seeds takes the file's first n seeds (so the tuning runs, on the first seed, come with it). Only the seeds the file
declares are offered: `repro sweep --seeds` selects among them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from repro.checkout import bundled
from repro.claims.claim import Claim
from repro.claims.decision import LineModel
from repro.claims.seed_power import line_cells, one_image, planned_design, reported_configs
from repro.claims.sequential import Looks
from repro.errors import UserError
from repro.planning.cell_runs import Cell, cell_runs
from repro.planning.choose import Item, Option
from repro.planning.expansions import planned_sweep
from repro.planning.our_spread import FinishedRuns, finished_runs, our_spread
from repro.planning.until_decided import Rounds, collapses, price_rounds
from repro.runs.metrics import is_accuracy
from repro.sweep.budget.calibration import Calibration
from repro.sweep.budget.estimate import estimate
from repro.sweep.dry_run import model_kind
from repro.sweep.protocol.registry import kept_rows
from repro.sweep.spec.model import SweepSpec
from repro.sweep.sweep_file import load_sweep

SWEEPS = bundled("sweeps")
PAPER, PRIOR = "paper", "prior"  # whose spread a line was priced from, where not ours


@dataclass(frozen=True)
class PlanLine:
    """One claim line (a claim in one anchor column) with what it costs and the ledger's test of it."""

    table: int
    claim: Claim
    column: str
    cells: tuple[Cell, ...]  # its terms' cells, and the cells a stage trains with them (the baseline gate's)
    terms: tuple[Cell, ...]  # the cells it contrasts, in its terms' order
    item: Item
    model: LineModel
    spread_text: str  # whose spread: ours (with the runs it rests on), the paper's, or a prior's
    looks: Looks | None = None  # the design's looks where it may be bought until decided

    @property
    def name(self) -> str:
        return f"T{self.table} {self.claim.name} [{self.column}]"


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
    """Plan Table `table`'s sweep file once (nothing trains; nothing counts as done) and price every claim line of
    `claims` on it, its test from our spread where `runs_root` holds finished runs of a line's cells (two or more per
    cell), else from the paper's (or a prior). With `until_decided`, plan it once more from its first two seeds with
    seeds until decided, and offer each line the stage adds seeds to that option too. Each run is priced packed
    `runs_per_gpu` to a GPU."""
    path = sweep_file(table, sweeps_dir)
    spec = load_sweep(path)
    skipped = [f"T{table} row {row!r}: {why}" for row, why in spec.needs.items()]
    if spec.needs:
        spec = spec.select(rows=[r for r in spec.rows if r not in spec.needs])
    plan = planned_sweep(spec)
    hours = {(table, rid): estimate([run], cal, runs_per_gpu=runs_per_gpu).total for rid, run in plan.unique.items()}
    kinds = {(table, rid): model_kind(run.config) for rid, run in plan.unique.items()}
    rounds = price_rounds(table, spec, hours, cal, runs_per_gpu) if until_decided else None
    if rounds is not None:
        hours = {**rounds.hours, **hours}
    found = PricedTable(table, path, spec, [], hours, skipped, cell_runs(plan), [], None, rounds, runs_per_gpu, kinds)
    found.finished = finished_runs(runs_root, plan.runs, str(spec.metric))
    found.kept = [row for row in spec.rows if row in kept_rows(spec, None)]  # in the file's order
    configs = reported_configs(plan.runs)
    for claim in claims:
        _price_claim(found, claim, configs)
    return found


def _price_claim(table: PricedTable, claim: Claim, configs: dict) -> None:
    """Each of the claim's lines in the table's columns, onto `table.lines` (or its reason onto `skipped`)."""
    anchors = claim.anchors(list(dict.fromkeys(cell for cell, _ in configs)))
    name = f"T{table.table} {claim.name}"
    if claim.kind.judge is None:
        table.skipped += [f"{name} [{a}]: a recorded quantity: the paper prints no spread of its measure and no "
                          "prior stands for one; the ledger judges it from its runs" for a in anchors]  # fmt: skip
        return
    if not anchors:
        table.skipped.append(f"{name}: no column of {table.path.name} holds its cells")
    percent = is_accuracy(table.spec.metric)
    for anchor in anchors:
        terms = line_cells(claim, anchor)
        first = next(config for (cell, _), config in configs.items() if cell == terms[0])
        line = _line(table, claim, anchor, one_image(first, percent), planned_design(terms, configs))
        if isinstance(line, str):
            table.skipped.append(line)
        else:
            table.lines.append(_with_rounds(table, line, [c for (cell, _), c in configs.items() if cell in terms]))


def _line(table: PricedTable, claim: Claim, anchor: str, floor: float, design) -> PlanLine | str:
    name = f"T{claim.table} {claim.name} [{anchor}]"
    paper = claim.paper_difference(anchor)
    if paper.value is None:
        return f"{name}: the paper prints no contrast here ({paper.how or 'no number'}), so no truth to plan against"
    ours = our_spread(claim, anchor, table.finished, floor) if table.finished else None
    spread = paper.spread(floor, prior=True)
    if ours is None and spread is None:
        return f"{name}: neither the paper nor its table prints a std for its cells, and our runs give none"
    model = ours.model if ours else LineModel(spread, floor, design, paper.value, claim.margin)
    source = f"ours ({ours.seeds_text})" if ours else (PRIOR if paper.uses_prior else PAPER)
    terms = tuple(line_cells(claim, anchor))
    cells = list(dict.fromkeys(terms))
    columns = list(dict.fromkeys(c for _, c in cells))
    cells += [(row, c) for row in table.kept for c in columns if (row, c) not in cells and table.has(row, c)]
    cells = tuple(cells)
    options = tuple(
        Option((n,) * len(cells), model.decided(n, paper.value), tuple(table.runs_of([c], n) for c in cells))
        for n in range(2, len(table.spec.seeds) + 1)
    )
    if not options:
        return f"{name}: {table.spec.path} has fewer than 2 seeds, and one seed gives no interval"
    item = Item((claim.table, claim.name, anchor), options, tuple((claim.table, cell) for cell in cells))
    return PlanLine(claim.table, claim, anchor, cells, terms, item, model, source)


def _with_rounds(table: PricedTable, line: PlanLine, configs: list[dict]) -> PlanLine:
    """The line with seeds until decided among its options, where the table offers them and the stage adds it
    seeds."""
    rounds = table.rounds
    if rounds is None:
        return line
    collapsing = collapses(configs)
    option = rounds.option(line.claim, line.column, line.cells, line.model, collapsing)
    if option is None:
        return line
    item = replace(line.item, options=(*line.item.options, option))
    return replace(line, item=item, looks=rounds.looks(collapsing))
