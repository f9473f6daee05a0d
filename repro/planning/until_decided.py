"""Seeds until decided as a plan buys them (`repro plan --until-decided`): a line's option of starting at the file's
first two seeds and adding seeds in rounds while it is undecided, up to the design's most seeds (`repro sweep FILE
--seeds 0 1 --until-decided`, docs/sequential-seeds.md).

Its P(decision) is the chance the group-sequential design decides the line at one of its looks (repro/claims/
decision.py, `LineModel.until_decided`: simulated through the stage's looks with the paper's contrast as the truth
and the line's per-seed spread, ours where runs exist, else the paper's); its GPU-hours are the first seeds' runs
whole and each further round's runs at the chance they are needed, as the command's dry run prices them (each planned
run's `share`, which the sweep's stage gives it; packed K to a GPU as `--runs-per-gpu K` prices them), and at worst
each round's whole (`RoundRun`). Only the lines the stage adds seeds to are offered it: those whose paper contrast
is decidable within the most seeds from the paper's spread (`sequentially_decidable`).

The choice prices the rounds on one plan of the whole table: a round's run is needed while any line of its cell is
undecided, so a cell that more lines compare is priced a little dearer there than in a command of fewer rows. The
printed command is priced exactly, by planning its own selection as its dry run will (`command_hours`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

from repro.claims.claim import Claim
from repro.claims.decision import LineModel, sequentially_decidable
from repro.claims.sequential import Looks, SequentialDesign
from repro.claims.stats import PAIRED
from repro.methods.registry import method_declaration
from repro.planning.cell_runs import Cell, cell_runs
from repro.planning.choose import Option
from repro.planning.expansions import planned_sweep
from repro.sweep.budget.calibration import Calibration
from repro.sweep.budget.estimate import estimate
from repro.sweep.dry_run import model_kind
from repro.sweep.spec.model import Scale, SweepSpec
from repro.sweep.sweep_plan import select

START = 2  # seeds per cell before the first look (the fewest an interval needs)
FLAG = "until_decided"  # the `repro sweep` option (and sweep-file key) that adds the rounds
ROUND = "round"  # marks a run priced at its round's chance (a run of the fixed seeds' plan priced whole is another)


@dataclass(frozen=True)
class RoundRun:
    """A further round's run as priced: its cell, its round (2, 3, ...) and its GPU-hours were it trained whole."""

    cell: Cell
    round: int
    whole: float


@dataclass
class Rounds:
    """A table's seeds-until-decided plan: its design, every run's expected GPU-hours and what each cell needs."""

    table: int
    spec: SweepSpec
    design: SequentialDesign
    calibration: Calibration
    hours: dict[Any, float]  # run key -> expected GPU-hours (a round's run at the chance it is needed)
    needs: dict[tuple[Cell, int], frozenset[Any]]
    seeds: tuple[int, ...]  # every seed the plan holds: the first START, then the further rounds'
    round_runs: dict[Any, RoundRun] = field(default_factory=dict)  # run key -> its round, where it is a round's
    priced: dict[tuple[tuple[str, ...], tuple[str, ...]], float] = field(default_factory=dict)
    runs_per_gpu: int = 1  # runs packed per GPU, as the command's `--runs-per-gpu` prices them
    # (rows, columns) -> the (model, step kind) of every run a command's selection plans (what packing checks)
    selected_kinds: dict[tuple[tuple[str, ...], tuple[str, ...]], frozenset[tuple[str, str]]] = field(
        default_factory=dict
    )

    @property
    def scale(self) -> Scale:
        return Scale(stage_options={FLAG: True})

    def looks(self, collapsing: bool) -> Looks:
        """The design's looks from the first START seeds (the collapse guard's where a line's method declares it)."""
        return self.design.at(START, collapsing)

    def option(self, claim: Claim, anchor: str, cells: Sequence[Cell], model: LineModel, collapsing: bool):
        """The line bought until decided (None where the stage adds it no seeds): decided as `model` (the line's
        spread, paired as the design's looks are) says the design decides it at the paper's contrast."""
        paper = claim.paper_difference(anchor)
        spread = paper.spread(model.floor)
        papers = None if spread is None else LineModel(spread, model.floor, PAIRED, paper.value, claim.margin)
        if not sequentially_decidable(papers, self.design.max_seeds)[0] or self.design.max_seeds <= START:
            return None
        paired = replace(model, design=PAIRED)
        power = paired.until_decided(self.looks(collapsing), paper.value or 0.0).decided
        runs = tuple(frozenset(k for seed in self.seeds for k in self.needs.get((cell, seed), ())) for cell in cells)
        return Option((self.design.max_seeds,) * len(cells), power, runs, until_decided=True)

    def command_hours(self, rows: Sequence[str], columns: Sequence[str]) -> float:
        """What `repro sweep FILE --rows ... --columns ... --seeds <first START> --until-decided --dry-run` prices:
        its selection planned as the dry run plans it (the rows a stage keeps included)."""
        key = (tuple(rows), tuple(columns))
        if key not in self.priced:
            only = {"rows": list(rows), "columns": list(columns), "seeds": list(self.spec.seeds[:START])}
            scale = self.scale
            plan = planned_sweep(select(self.spec, only, scale), scale)
            self.priced[key] = estimate(list(plan.unique.values()), self.calibration, (), self.runs_per_gpu).total
            self.selected_kinds[key] = frozenset(model_kind(run.config) for run in plan.unique.values())
        return self.priced[key]

    def command_kinds(self, rows: Sequence[str], columns: Sequence[str]) -> frozenset[tuple[str, str]]:
        """The (model, step kind) of every run that command's dry run plans: what its K runs per GPU must fit."""
        self.command_hours(rows, columns)
        return self.selected_kinds[(tuple(rows), tuple(columns))]


def price_rounds(
    table: int, spec: SweepSpec, fixed: Mapping[Any, float], cal: Calibration, runs_per_gpu: int = 1
) -> Rounds | None:
    """Plan the table from its first START seeds with seeds until decided (nothing trains; a fresh output root) and
    price every run, packed `runs_per_gpu` to a GPU; a run the fixed seeds' plan (`fixed`) prices whole keeps its key
    there, so a line bought either way pays it once. None where the file has fewer than START seeds."""
    if len(spec.seeds) < START:
        return None
    rounds = Rounds(table, spec, file_design(spec), cal, {}, {}, (), runs_per_gpu=runs_per_gpu)
    plan = planned_sweep(spec.select(seeds=list(spec.seeds[:START])), rounds.scale)
    keys, hours = {}, {}
    order = sorted({run.seed for run in plan.runs})
    for rid, run in plan.unique.items():
        key = (table, rid) if (table, rid) in fixed and run.share == 1.0 else (table, rid, ROUND)
        keys[rid] = key
        hours[key] = estimate([run], cal, runs_per_gpu=runs_per_gpu).total
        if key[-1] == ROUND and run.seed in order[START:]:
            whole = estimate([replace(run, share=1.0)], cal, runs_per_gpu=runs_per_gpu).total
            at = order.index(run.seed)
            round_ = next(k + 1 for k, n in enumerate(rounds.design.looks(START)) if at < n)
            rounds.round_runs[key] = RoundRun((run.row, run.column), round_, whole)
    rounds.hours = hours
    rounds.needs = {k: frozenset(keys[r] for r in ids) for k, ids in cell_runs(plan).items()}
    rounds.seeds = tuple(sorted({seed for (_, seed) in rounds.needs}))
    return rounds


def file_design(spec: SweepSpec) -> SequentialDesign:
    """The design the sweep's stage takes with `--until-decided`: its file's `until_decided:` key where it has one,
    else the default."""
    declared = spec.stage_settings.get(FLAG)
    if declared is None:
        return SequentialDesign()
    guard = declared.collapse_guard
    return SequentialDesign(
        declared.max_seeds, declared.per_round, declared.spending, guard is True, guard is not False
    )


def collapses(configs: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a method of the line's runs declares its seeds may collapse (its looks then take the guard's
    boundaries, as the stage gives them where the design guards declared lines)."""
    for config in configs:
        name = (config.get("method") or {}).get("name")
        if name and method_declaration(str(name)).seeds_may_collapse(config):
            return True
    return False
