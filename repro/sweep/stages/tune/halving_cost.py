"""The tuning stages of a plan priced under both strategies, for `repro sweep --dry-run`: the full grid (every
point trains to the end: the paper's protocol) and successive halving (repro/sweep/stages/tune/halving.py), its worst
case
and its expected cost, beside the table's total under each.

Halving trains a fixed number of points to each rung (the top 1/eta of the previous rung's), so what it costs
depends only on which points survive: its expected cost takes each point as likely to survive as another (the mean
price), its worst case the most expensive points at every rung. The two differ only where grid points differ in
price (a grid over the batch size, say); over learning rates and initial labels they are equal. A plan made with the
grid strategy is priced under halving with each stage's `eta` and `min_epochs` (defaults 3 and 1), as
`--tune-strategy halving` would plan it.
"""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import OmegaConf
from tabulate import tabulate

from repro.sweep.budget.calibration import load_calibration
from repro.sweep.budget.costs import full_run_gpu_hours
from repro.sweep.budget.estimate import hours_text, plan_estimate, short_hours_text
from repro.sweep.plan import Plan
from repro.sweep.spec.model import PlannedRun
from repro.sweep.stages.tune.halving import survivor_counts
from repro.sweep.stages.tune.halving_runs import stage_rungs, steps_per_epoch
from repro.sweep.stages.tune.tune_spec import TuneSpec, cell_tune
from repro.sweep.sweep_file import load_sweep
from repro.training.schedule import iteration_based, iteration_lambda, lr_lambda, planned_steps


@dataclass
class StageCost:
    row: str
    column: str
    points: int
    rungs: tuple[int, ...]
    grid: float
    worst: float
    expected: float
    planned: str  # the strategy this plan uses for the stage
    pinned: bool = False  # the sweep file pins the stage's strategy (`--tune-strategy` leaves it)
    lr: tuple[float, ...] = ()  # per rung, the lr at the end of its epoch over the peak
    survivors: tuple[int, ...] = ()  # per rung, the points that train to it

    def price(self, strategy: str) -> float:
        """The stage's GPU-hours when the sweep's strategy is `strategy` (grid, worst, expected): a pinned stage's
        own strategy whatever the sweep's."""
        if self.pinned:
            strategy = "expected" if self.planned == "halving" else "grid"
        return {"grid": self.grid, "worst": self.worst, "expected": self.expected}[strategy]

    def rungs_text(self) -> str:
        """'40 (lr 0.85, 32 pts), 120 (lr 0.00, 10 pts)'."""
        if not self.survivors:
            return ", ".join(map(str, self.rungs))
        return ", ".join(f"{epoch} (lr {lr:.2f}, {n} pts)" for epoch, lr, n in zip(self.rungs, self.lr, self.survivors))


@dataclass
class StrategyCosts:
    stages: list[StageCost]
    table_total: float  # the plan's estimate (its own strategies; halving at its expected cost)
    at_least: bool = False  # the estimate is a lower bound (FLOPs-scaled figures, unpriced runs)

    def totals(self) -> dict[str, float]:
        """The table's total with every stage that pins no strategy tuned by the grid, or by halving (its worst case
        and expected cost); a pinned stage keeps its own in all three."""
        planned = sum(s.expected if s.planned == "halving" else s.grid for s in self.stages)
        rest = self.table_total - planned
        return {
            "grid": rest + sum(s.price("grid") for s in self.stages),
            "worst": rest + sum(s.price("worst") for s in self.stages),
            "expected": rest + sum(s.price("expected") for s in self.stages),
        }

    def render(self) -> str:
        if not self.stages:
            return ""

        def hours(value: float) -> str:
            return ("at least " if self.at_least else "") + short_hours_text(value)

        body = [
            [
                s.row,
                s.column,
                s.points,
                s.rungs_text(),
                short_hours_text(s.grid),
                short_hours_text(s.worst),
                short_hours_text(s.expected),
                s.planned + (" (pinned)" if s.pinned else ""),
            ]
            for s in self.stages
        ]
        t = self.totals()
        free = [s for s in self.stages if not s.pinned]
        grid = sum(s.grid for s in free)
        worst, expected = sum(s.worst for s in free), sum(s.expected for s in free)
        pinned = [s for s in self.stages if s.pinned]
        return "\n".join(
            line
            for line in [
                "tuning strategies (GPU-hours of each tuning stage: the full grid, or successive halving; each rung: "
                "its epoch, the lr of that epoch over the peak, and the points that train to it):",
                tabulate(
                    body,
                    headers=["row", "column", "points", "halving rungs", "grid", "halving worst", "expected", "plan"],
                    tablefmt="simple",
                    disable_numparse=True,
                ),
                f"pinned by the sweep file ({len(pinned)} stage(s), `--tune-strategy` leaves them): "
                + "; ".join(f"{s.row} / {s.column}: {s.planned}" for s in pinned)
                if pinned
                else "",
                f"tuning that `--tune-strategy` chooses: grid {hours(grid)}, halving {hours(worst)} worst case / "
                f"{hours(expected)} expected ({expected / grid:.0%} of the grid's)"
                if grid
                else "",
                f"table total: grid {hours(t['grid'])}, halving {hours(t['worst'])} worst case / "
                f"{hours(t['expected'])} expected (`--tune-strategy grid|halving` chooses; docs/cluster.md)",
            ]
            if line
        )


def strategy_costs(plan: Plan, gpu_name: str | None = None) -> StrategyCosts:
    """Every tuning stage of `plan` priced under both strategies."""
    cal = load_calibration(gpu_name)
    stages: dict[tuple[str, ...], StageCost] = {}
    for run in plan.unique.values():
        tune = run.config.get("tune") or {}
        ids = tuple(str(e["run"]) for e in tune.get("runs") or [])
        if not tune.get("keys") or ids in stages or not all(i in plan.unique for i in ids):
            continue
        configs = [plan.unique[i].config for i in ids]
        prices: dict[tuple, float] = {}
        for entry, config in zip(tune["runs"], configs):
            prices[tuple(entry["values"])] = prices.get(tuple(entry["values"]), 0.0) + (
                full_run_gpu_hours(config, cal) or 0.0
            )
        node = tune.get("halving")
        spec = _cell_tune(plan, run)
        if node:
            rungs = tuple(int(e) for e in node["epochs"])
            eta, finalists = int(node["eta"]), int(node.get("finalists", 1))
        else:
            spec = spec or TuneSpec(grid=())  # another table's stage (a teacher's): the defaults
            eta, finalists = spec.eta, spec.least_finalists
            rungs = stage_rungs(spec, configs[0], len(prices))
        worst, expected = _halving(list(prices.values()), eta, rungs, finalists)
        stages[ids] = StageCost(
            run.row + (" (the teacher's tuning)" if run.stage.startswith("teacher") else ""),  # another table's stage
            run.column,
            len(prices),
            rungs,
            sum(prices.values()),
            worst,
            expected,
            "halving" if node else "grid",
            pinned=bool(spec and spec.strategy is not None),
            lr=tuple(_lr_share(configs[0], epoch) for epoch in rungs),
            survivors=tuple(survivor_counts(len(prices), eta, len(rungs), finalists)),
        )
    estimate = plan_estimate(plan, gpu_name)
    lower = estimate.lower_bound or bool(estimate.unpriced)
    return StrategyCosts(list(stages.values()), estimate.total, lower)


def _halving(prices: list[float], eta: int, rungs: tuple[int, ...], finalists: int) -> tuple[float, float]:
    """(worst case, expected) of racing points of these full-run prices over these rungs."""
    counts = survivor_counts(len(prices), eta, len(rungs), finalists)
    dearest = sorted(prices, reverse=True)
    worst = expected = 0.0
    for k, epoch in enumerate(rungs):
        share = (epoch - (rungs[k - 1] if k else 0)) / rungs[-1]
        worst += share * sum(dearest[: counts[k]])
        expected += share * counts[k] / len(prices) * sum(prices)
    return worst, expected


def _lr_share(config: dict, epoch: int) -> float:
    """The lr at the end of the rung's epoch over the peak: where a rung ranks in the schedule (per epoch, or at the
    epoch's last step of an iteration-based schedule)."""
    optim = OmegaConf.create(config["optim"])
    if not iteration_based(optim):
        return lr_lambda(optim)(epoch - 1)
    per_epoch = steps_per_epoch(config)
    _, total = planned_steps(optim, per_epoch)
    return iteration_lambda(optim)(min(epoch * per_epoch, total) - 1)


def _cell_tune(plan: Plan, run: PlannedRun) -> TuneSpec | None:
    """The sweep file's tuning stage of the run's cell, or of the cell it borrows its tuning from (`tune: {from:
    ...}`: that cell's stage, pinned or not, is what runs); None for another table's stage (a teacher's)."""
    try:
        spec = cell_tune(plan.spec, run.row, run.column) if not run.stage.startswith("teacher") else None
    except KeyError:
        return None
    if spec is not None and spec.source is not None:
        source = load_sweep(spec.source.sweep)
        return cell_tune(source, spec.source.row, spec.source.column or run.column)
    return spec


def cost_figures(costs: StrategyCosts, preflight_runs: int, preflight_hours: float) -> tuple[tuple[str, str], ...]:
    """What docs/costs.md tabulates of the tuning stages (repro/commands/costs_doc.py), (column, cell): the table's
    total with every unpinned stage tuned by halving (its worst case), the tuning stages' GPU-hours under each
    strategy, and the declared preflight's runs and GPU-hours."""
    at_least = costs.at_least
    totals = costs.totals() if costs.stages else {"worst": costs.table_total}
    grid = sum(s.grid for s in costs.stages)
    return (
        ("with halving", hours_text(totals["worst"], at_least)),
        ("tuning (grid)", hours_text(grid, at_least) if grid else "-"),
        ("tuning (halving)", hours_text(sum(s.worst for s in costs.stages), at_least) if grid else "-"),
        (
            "preflight first (runs / hours)",
            f"{preflight_runs} / {hours_text(preflight_hours)}" if preflight_runs else "-",
        ),
    )
