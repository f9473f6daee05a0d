"""`repro sweep FILE --preflight`: before a table's GPU-hours are spent, train the corner points of every tuned
cell's grid for a few epochs and print how far their labels moved and what a step cost here.

A preflight run is a cell's tuning run (first tuning seed, the tuning split) at a grid corner (each numeric axis's
smallest and largest value; a non-numeric axis keeps its first and last), with `optim.epochs` = the preflight's
epochs, `output_root` = <output_root>/preflight and `sweep.name` = <name>-preflight: its own run, never one of the
table's. They train with the sweep's executor, which the sweep hands the stage (repro/sweep/protocol/base.py,
`Preflight.train`): here, or on SLURM (`--executor slurm --profile P`) as one job array submitted as a sweep's runs
are, which the command waits for. Then the full plan's estimate is
recalibrated: each run's estimate times the ratio measured / estimated of the preflight runs of its model and step kind
(the mean ratio for kinds the preflight did not train).

The corners train at the lr the tuning runs will have: their peak lr, constant (`optim.schedule=constant
optim.warmup_epochs=0`), so that 2 epochs are neither inside a warm-up nor a cosine squeezed into 2 epochs. Label
movement is compared per epoch: the tuning run's threshold (MOVED_THRESHOLD over the whole run) divided by the
epochs-at-peak-lr its schedule adds up to (its look-ahead's lr summed over its epochs, in units of the peak).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any, Callable

from omegaconf import OmegaConf
from tabulate import tabulate

from repro.errors import UserError
from repro.runs.rundir import RunDir
from repro.sweep.budget.calibration import Calibration, load_calibration
from repro.sweep.budget.costs import run_gpu_hours, run_sizes
from repro.sweep.budget.estimate import plan_estimate
from repro.sweep.expand.build import make_run
from repro.sweep.expand.overrides import parse_all
from repro.sweep.plan import Plan
from repro.sweep.protocol.base import Preflight
from repro.sweep.spec.model import PlannedRun, SweepSpec
from repro.sweep.stages.tune.halving import unit_id
from repro.sweep.stages.tune.preflight_report import movement_verdicts, recalibrated, run_kind
from repro.sweep.stages.tune.tune_spec import cell_tune
from repro.sweep.stages.tune.tune_warnings import MOVED_THRESHOLD
from repro.training.schedule import iteration_based, iteration_lambda, lr_lambda, planned_steps

PREFLIGHT_EPOCHS = 2
# The preflight trains at the tuning runs' peak lr throughout: no warm-up, no decay (an iteration schedule too).
AT_PEAK_LR = ("optim.schedule=constant", "optim.warmup_epochs=0")


def corners(points: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The grid points at the corners: per axis its smallest and largest value (first and last if not numeric)."""
    ends = []
    for axis in range(len(points[0])):
        values = list(dict.fromkeys(p[axis] for p in points))
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        low, high = (min(values), max(values)) if numeric else (values[0], values[-1])
        ends.append(list(dict.fromkeys([low, high])))
    wanted = set(itertools.product(*ends))
    return [p for p in dict.fromkeys(points) if p in wanted]


def declares_preflight(spec: SweepSpec) -> bool:
    """Whether some cell of the sweep declares `preflight: true` on its tuning stage."""
    tunes = [cell_tune(spec, row, column) for row in spec.rows for column in spec.row_columns(row)]
    return any(t is not None and t.preflight for t in tunes)


def declared(plan: Plan, run: PlannedRun) -> bool:
    """Whether the cell of `run` declares `preflight: true` on its tuning stage and still has tuning runs to train
    (`repro sweep FILE` preflights such a cell before its tuning runs; a cell whose tuning is done has no need, and a
    scaled sweep, --epochs or --subset, is not the recipe the preflight checks)."""
    if plan.scale is not None and plan.scale.overrides():
        return False
    tune = cell_tune(plan.spec, run.row, run.column)
    if tune is None or not tune.preflight:
        return False
    entries = (run.config.get("tune") or {}).get("runs") or []
    return any(plan.status[str(e["run"])].state != "done" for e in entries if str(e["run"]) in plan.status)


def preflight_runs(
    plan: Plan, epochs: int, root: Path, *, only_declared: bool = False
) -> list[tuple[PlannedRun, tuple[Any, ...], list[str], PlannedRun]]:
    """(preflight run, its grid point, the grid's keys, the tuning run it shortens) per corner of every tuned cell
    (`only_declared`: of the cells whose tuning stage declares `preflight: true` and is not done)."""
    out = []
    seen: set[str] = set()
    for run in plan.runs:
        tune = run.config.get("tune") or {}
        if run.stage == "tune" or not tune.get("keys") or (run.row, run.column) in seen:
            continue
        if only_declared and not declared(plan, run):
            continue
        seen.add((run.row, run.column))
        entries = tune["runs"]
        first_seed = plan.unique[str(entries[0]["run"])].seed
        points = [tuple(e["values"]) for e in entries]
        for point in corners(points):
            source = next(
                plan.unique[str(e["run"])]
                for e in entries
                if tuple(e["values"]) == point and plan.unique[str(e["run"])].seed == first_seed
            )
            overrides = parse_all(
                [
                    *source.overrides,
                    *AT_PEAK_LR,
                    f"optim.epochs={epochs}",
                    f"output_root={root}",
                    f"sweep.name={plan.spec.name}-preflight",
                    "halving.rung=null",  # a successive-halving stage's run: the plain run, stopped at no rung
                ],
                "preflight",
            )
            first = plan.unique.get(unit_id(source.run_id, 0), source)  # halving: the first rung's job waits for all
            pre = make_run(
                source.row,
                source.column,
                source.seed,
                "preflight",
                None,
                overrides,
                first.depends_on,
                f"{plan.spec.path}: preflight of {source.row} / {source.column}",
            )
            if pre.run_id not in {p.run_id for p, *_ in out}:  # cells that share their tuning runs share corners
                out.append((pre, point, [k.split(".")[-1] for k in tune["keys"]], source))
    return out


def run_preflight(plan: Plan, how: Preflight) -> list[PlannedRun]:
    """Train the preflight runs with the sweep's executor (`how.train`: here, or as SLURM jobs through the sweep's
    submitit path, waiting for them), print label movement and step time per corner and, per cell, whether its
    labels move as its tuning needs; then the recalibrated plan (`how.declared`: the preflight `repro sweep FILE`
    runs by itself before the tuning of the cells that declare it, without the plan's estimate)."""
    epochs, report, only_declared = how.epochs, how.report, how.declared
    if epochs < 1:
        raise UserError(f"--preflight-epochs {epochs}: train at least 1 epoch per grid corner.")
    root = plan.output_root / "preflight"
    runs = preflight_runs(plan, epochs, root, only_declared=only_declared)
    if not runs and only_declared:
        return []
    if not runs:
        report("preflight: no cell of this sweep is tuned, so there is no grid to check; the plan's estimate stands.")
        return []
    _refuse_sources_not_done(plan, runs)
    declared_text = " declared `preflight: true`, before their tuning runs" if only_declared else ""
    report(
        f"preflight: {len(runs)} run(s) at the corners of the tuned cells' grids{declared_text}, {epochs} epoch(s) "
        f"each, in {root} (not runs of the table)"
    )
    todo = [pre for pre, *_ in runs if not RunDir(root / "runs" / pre.run_id).is_done()]
    how.train(todo, f"{plan.spec.name}-preflight", root, [d for pre, *_ in runs for d in pre.depends_on])
    cal = load_calibration(how.gpu_model)
    body, ratios, moves = _measured(runs, root, cal)
    _report_corners(body, epochs, report)
    for line in movement_verdicts(moves):
        report(line)
    if not only_declared:
        report(plan_estimate(plan, how.gpu_model).render())
        report(recalibrated(plan, cal, ratios))
    return [pre for pre, *_ in runs]


def _refuse_sources_not_done(plan: Plan, runs: list[tuple[PlannedRun, Any, Any, Any]]) -> None:
    """A preflight run trains from what its tuning run learns from (a teacher): each must be done."""
    missing = sorted(
        {d for pre, *_ in runs for d in pre.depends_on if plan.status.get(d) is None or plan.status[d].state != "done"}
    )
    if missing:
        raise UserError(
            f"preflight: {len(missing)} run(s) the tuning runs learn from (teachers) are not done "
            f"({', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}); train them first with "
            f"`repro sweep {plan.spec.path}`, or preflight the rows without teachers (--rows)."
        )


def _measured(
    runs: list[tuple[PlannedRun, tuple[Any, ...], list[str], PlannedRun]], root: Path, cal: Calibration
) -> tuple[list[list[str]], dict[str, list[float]], dict[tuple[str, str], list[tuple[float | None, float]]]]:
    """What the trained preflight runs say: (a table row per corner; the measured / estimated ratio of their GPU-hours
    by run kind; per cell, each corner's label movement per epoch and the movement its tuning needs per epoch)."""
    body, ratios = [], {}
    moves: dict[tuple[str, str], list[tuple[float | None, float]]] = {}
    for pre, point, keys, source in runs:
        summary = RunDir(root / "runs" / pre.run_id).read_summary() or {}
        n_train = run_sizes(pre.config)[0]
        steps = max(math.ceil(n_train / int(pre.config["data"]["batch_size"])), 1)
        seconds, ran = summary.get("seconds"), summary.get("epochs")
        epoch_s = seconds / ran if seconds and ran else math.nan
        moved = summary.get("final_label_change_mean")
        per_epoch = None if moved is None or not ran else moved / ran
        needed = MOVED_THRESHOLD / max(peak_lr_epochs(source.config), 1e-9)
        moves.setdefault((pre.row, pre.column), []).append((per_epoch, needed))
        body.append(
            [
                pre.row,
                pre.column,
                ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in zip(keys, point)),
                "-" if moved is None else f"{moved:.4f}",
                "-" if per_epoch is None else f"{per_epoch:.4f}" + (" (below)" if per_epoch < needed else ""),
                f"{needed:.4f}",
                _pct(summary.get("final_val_acc")),
                f"{epoch_s:.2f}",
                f"{1e3 * epoch_s / steps:.1f}",
            ]
        )
        estimated = run_gpu_hours(pre.config, cal, pre.share)
        if estimated and math.isfinite(epoch_s):
            ratios.setdefault(run_kind(pre.config), []).append(epoch_s * ran / 3600 / estimated)
    return body, ratios, moves


CORNER_HEADERS = [
    "row",
    "column",
    "grid corner",
    "labels moved (mean TV)",
    "per epoch",
    "needed per epoch",
    "val acc",
    "s/epoch",
    "ms/step (incl. eval)",
]


def _report_corners(body: list[list[str]], epochs: int, report: Callable[[str], None]) -> None:
    """The corners' table and what its movement columns mean."""
    report(tabulate(body, headers=CORNER_HEADERS, tablefmt="simple", disable_numparse=True))
    report(
        f"labels moved: mean total variation between the labels after {epochs} epoch(s) at the tuning runs' peak lr "
        f"(constant, no warm-up: {', '.join(AT_PEAK_LR)}) and their initial values; per epoch: that over "
        f"{epochs}. A tuning run whose labels move less than {MOVED_THRESHOLD} in all acts as fixed targets "
        "(repro/sweep/stages/tune/tune_warnings.py); needed per epoch: that threshold over the tuning run's epochs "
        "at its peak lr (its look-ahead's lr summed over its epochs, warm-up and decay counted). If every corner is "
        "below, extend the grid's label learning rate upward before spending the table's GPU-hours."
    )


def declared_preflight(plan: Plan, gpu_model: str | None = None) -> tuple[int, float, list[str]]:
    """The preflight `repro sweep FILE` will run first (the cells that declare it): its runs, their GPU-hours and
    its cells."""
    runs = preflight_runs(plan, PREFLIGHT_EPOCHS, plan.output_root / "preflight", only_declared=True)
    cal = load_calibration(gpu_model)
    hours = sum(run_gpu_hours(pre.config, cal, pre.share) or 0.0 for pre, *_ in runs)
    return len(runs), hours, list(dict.fromkeys(f"{pre.row} / {pre.column}" for pre, *_ in runs))


def declared_preflight_text(runs: int, hours: float, cells: list[str]) -> str:
    """The dry run's line for the declared preflight: its runs, the cells and GPU-hours ("" where none is)."""
    if not runs:
        return ""
    return (
        f"preflight first (`preflight: true` on their tuning stage): {runs} run(s) of {PREFLIGHT_EPOCHS} epochs "
        f"at the grids' corners, {hours:.2f} GPU-hours, before the tuning of {len(cells)} cell(s): "
        f"{'; '.join(cells)}. `repro sweep` trains them first and says whether the labels move as the tuning needs."
    )


def peak_lr_epochs(config: dict) -> float:
    """How many epochs at its peak lr a run's look-ahead adds up to: its schedule's lr factor summed over its steps,
    over the steps of an epoch (`optim.lookahead_lr=peak`: every epoch counts whole)."""
    optim = OmegaConf.create(config["optim"])
    per_epoch = max(math.ceil(run_sizes(config)[0] / int(config["data"]["batch_size"])), 1)
    epochs, total = planned_steps(optim, per_epoch)
    if optim.get("lookahead_lr") == "peak":
        return total / per_epoch
    if iteration_based(optim):
        factor = iteration_lambda(optim)
        return sum(factor(step) for step in range(total)) / per_epoch
    factor = lr_lambda(optim)
    return sum(factor(epoch) for epoch in range(epochs))


def _pct(value: Any) -> str:
    return f"{100 * value:.1f}" if isinstance(value, (int, float)) else "-"
