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
from typing import Any

from tabulate import tabulate

from repro.sweep.budget.calibration import load_calibration
from repro.sweep.budget.costs import _hours_text, full_run_gpu_hours, plan_estimate
from repro.sweep.stages.tune.halving import DEFAULT_ETA, rung_epochs, survivor_counts
from repro.sweep.stages.tune.halving_runs import run_epochs


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


@dataclass
class StrategyCosts:
    stages: list[StageCost]
    table_total: float  # the plan's estimate (its own strategies; halving at its expected cost)
    at_least: bool = False  # the estimate is a lower bound (FLOPs-scaled figures, unpriced runs)

    def totals(self) -> dict[str, float]:
        planned = sum(s.expected if s.planned == "halving" else s.grid for s in self.stages)
        rest = self.table_total - planned
        return {
            "grid": rest + sum(s.grid for s in self.stages),
            "worst": rest + sum(s.worst for s in self.stages),
            "expected": rest + sum(s.expected for s in self.stages),
        }

    def render(self) -> str:
        if not self.stages:
            return ""

        def hours(value: float) -> str:
            return ("at least " if self.at_least else "") + _hours_text(value)

        body = [
            [
                s.row,
                s.column,
                s.points,
                ", ".join(map(str, s.rungs)),
                _hours_text(s.grid),
                _hours_text(s.worst),
                _hours_text(s.expected),
                s.planned,
            ]
            for s in self.stages
        ]
        t = self.totals()
        grid = sum(s.grid for s in self.stages)
        worst, expected = sum(s.worst for s in self.stages), sum(s.expected for s in self.stages)
        return "\n".join(
            [
                "tuning strategies (GPU-hours of each tuning stage: the full grid, or successive halving "
                "with its rungs in epochs):",
                tabulate(
                    body,
                    headers=["row", "column", "points", "halving rungs", "grid", "halving worst", "expected", "plan"],
                    tablefmt="simple",
                    disable_numparse=True,
                ),
                f"tuning: grid {hours(grid)}, halving {hours(worst)} worst case / {hours(expected)} expected "
                f"({expected / grid:.0%} of the grid's)"
                if grid
                else "",
                f"table total: grid {hours(t['grid'])}, halving {hours(t['worst'])} worst case / "
                f"{hours(t['expected'])} expected (`--tune-strategy grid|halving` chooses; docs/cluster.md)",
            ]
        )


def strategy_costs(plan: Any, gpu_name: str | None = None) -> StrategyCosts:
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
        if node:
            rungs = tuple(int(e) for e in node["epochs"])
            eta = int(node["eta"])
        else:
            spec = _cell_tune(plan, run)
            eta = spec.eta if spec else DEFAULT_ETA
            rungs = rung_epochs(run_epochs(configs[0]), eta, len(prices), spec.min_epochs if spec else 1)
        worst, expected = _halving(list(prices.values()), eta, rungs)
        stages[ids] = StageCost(
            run.row + (" (the teacher's tuning)" if run.stage.startswith("teacher") else ""),  # another table's stage
            run.column,
            len(prices),
            rungs,
            sum(prices.values()),
            worst,
            expected,
            "halving" if node else "grid",
        )
    estimate = plan_estimate(plan, gpu_name)
    lower = estimate.lower_bound or bool(estimate.unpriced)
    return StrategyCosts(list(stages.values()), estimate.total, lower)


def _halving(prices: list[float], eta: int, rungs: tuple[int, ...]) -> tuple[float, float]:
    """(worst case, expected) of racing points of these full-run prices over these rungs."""
    counts = survivor_counts(len(prices), eta, len(rungs))
    dearest = sorted(prices, reverse=True)
    worst = expected = 0.0
    for k, epoch in enumerate(rungs):
        share = (epoch - (rungs[k - 1] if k else 0)) / rungs[-1]
        worst += share * sum(dearest[: counts[k]])
        expected += share * counts[k] / len(prices) * sum(prices)
    return worst, expected


def _cell_tune(plan: Any, run: Any) -> Any:
    """The sweep file's tuning stage of the run's cell (None for another table's: a teacher's)."""
    try:
        return plan.spec.cell_tune(run.row, run.column) if not run.stage.startswith("teacher") else None
    except KeyError:
        return None
