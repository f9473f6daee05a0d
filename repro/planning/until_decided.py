"""Seeds until decided as a plan buys them (`repro plan --until-decided`): a line's option of starting at the file's
first two seeds and adding seeds in rounds while it is undecided, up to the design's most seeds (`repro sweep FILE
--seeds 0 1 --until-decided`, docs/sequential-seeds.md).

Its P(decision) is the chance the group-sequential design decides the line at one of its looks (repro/claims/
sequential.py, `decided_probability`: simulated with the paper's contrast as the truth and the line's per-seed
spread, ours where runs exist, else the paper's); its GPU-hours are the first seeds' runs whole and each further
round's runs at the chance they are needed, as the command's dry run prices them (each planned run's `share`, which
the sweep's stage gives it; packed K to a GPU as `--runs-per-gpu K` prices them). Only the lines the stage adds seeds
to are offered it: those whose paper contrast is decidable within the most seeds from the paper's spread.

The choice prices the rounds on one plan of the whole table: a round's run is needed while any line of its cell is
undecided, so a cell that more lines compare is priced a little dearer there than in a command of fewer rows. The
printed command is priced exactly, by planning its own selection as its dry run will (`command_hours`)."""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from repro.claims.claim import Claim
from repro.claims.sequential import SequentialDesign, decided_probability
from repro.claims.stats import Spread
from repro.methods.registry import method_declaration
from repro.planning.cell_runs import Cell, cell_runs
from repro.planning.choose import Option
from repro.sweep.budget.calibration import Calibration
from repro.sweep.budget.costs import estimate
from repro.sweep.dry_run import model_kind
from repro.sweep.run import plan_sweep, select
from repro.sweep.spec.model import Scale, SweepSpec

START = 2  # seeds per cell before the first look (the fewest an interval needs)
FLAG = "until_decided"  # the `repro sweep` option (and sweep-file key) that adds the rounds
ROUND = "round"  # marks a run priced at its round's chance (a run of the fixed seeds' plan priced whole is another)


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
    priced: dict[tuple[tuple[str, ...], tuple[str, ...]], float] = field(default_factory=dict)
    runs_per_gpu: int = 1  # runs packed per GPU, as the command's `--runs-per-gpu` prices them
    # (rows, columns) -> the (model, step kind) of every run a command's selection plans (what packing checks)
    selected_kinds: dict[tuple[tuple[str, ...], tuple[str, ...]], frozenset[tuple[str, str]]] = field(
        default_factory=dict
    )

    @property
    def scale(self) -> Scale:
        return Scale(stage_options={FLAG: True})

    def option(self, claim: Claim, anchor: str, cells: Sequence[Cell], sd: float, floor: float, collapsing: bool):
        """The line bought until decided (None where the stage adds it no seeds)."""
        paper = claim.paper_difference(anchor)
        spread, judge = paper.spread(floor), claim.kind.judge
        if spread is None or judge is None or paper.value is None:
            return None
        needed = judge.seeds_for(paper.value, spread, claim.margin)
        if needed is None or needed > self.design.max_seeds or self.design.max_seeds <= START:
            return None
        looks = self.design.at(START, collapsing)
        power = decided_probability(looks, paper.value, sd, floor, paper=paper.value, margin=claim.margin)
        runs = frozenset(k for cell in cells for seed in self.seeds for k in self.needs.get((cell, seed), ()))
        return Option(self.design.max_seeds, power, runs, until_decided=True)

    def command_hours(self, rows: Sequence[str], columns: Sequence[str]) -> float:
        """What `repro sweep FILE --rows ... --columns ... --seeds <first START> --until-decided --dry-run` prices:
        its selection planned as the dry run plans it (the rows a stage keeps included)."""
        key = (tuple(rows), tuple(columns))
        if key not in self.priced:
            only = {"rows": list(rows), "columns": list(columns), "seeds": list(self.spec.seeds[:START])}
            scale = self.scale
            with tempfile.TemporaryDirectory() as root:
                plan = plan_sweep(select(self.spec, only, scale), output_root=root, scale=scale)
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
    with tempfile.TemporaryDirectory() as root:
        plan = plan_sweep(spec.select(seeds=list(spec.seeds[:START])), output_root=root, scale=rounds.scale)
    keys, hours = {}, {}
    for rid, run in plan.unique.items():
        key = (table, rid) if (table, rid) in fixed and run.share == 1.0 else (table, rid, ROUND)
        keys[rid] = key
        hours[key] = estimate([run], cal, runs_per_gpu=runs_per_gpu).total
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


def contrast_sd(spread: Spread) -> float:
    """The sd of a line's per-seed contrast: ours paired, else from each cell's sd (cells taken as independent)."""
    if spread.paired_sd is not None:
        return spread.paired_sd
    return math.sqrt(sum((c * sd) ** 2 for c, sd in zip(spread.coefs, spread.cell_sds)))


def collapses(configs: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a method of the line's runs declares its seeds may collapse (its looks then take the guard's
    boundaries, as the stage gives them where the design guards declared lines)."""
    for config in configs:
        name = (config.get("method") or {}).get("name")
        if name and method_declaration(str(name)).seeds_may_collapse(config):
            return True
    return False
