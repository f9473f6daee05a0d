"""Per tuned cell of a plan: the tuning winner once its tuning runs are done, and the warnings when the grid may
have missed (repro/sweep/stages/tune/tune_warnings.py). Printed after a local sweep trains and by `repro sweep
status`."""

from __future__ import annotations

from dataclasses import dataclass, field

from repro.errors import UserError
from repro.runs.rundir import RunDir
from repro.sweep.plan import Plan
from repro.sweep.stages.tune.halving import rungs_text
from repro.sweep.stages.tune.tune_margin import tune_margin
from repro.sweep.stages.tune.tune_warnings import tuning_warnings
from repro.sweep.stages.tune.tuning import choose, point_text, results, tuned_keys


@dataclass
class CellTuning:
    row: str
    column: str
    winner: str | None  # "label_lr=25, init_target_prob=0.5"; None until every tuning run is done
    warnings: list[str] = field(default_factory=list)
    margin: str = (
        ""  # the winner's margin over the runner-up and its standard error (repro/sweep/stages/tune/tune_margin.py)
    )
    rungs: str = ""  # successive halving: each decided rung's leader and first point out (halving.rungs_text)


def cell_tunings(plan: Plan) -> list[CellTuning]:
    """One entry per cell whose runs are tuned, in plan order."""
    seen: dict[tuple[str, str], CellTuning] = {}
    for run in plan.runs:
        key = (run.row, run.column)
        if key in seen or run.stage == "tune" or not tuned_keys(run.config):
            continue
        tune = run.config["tune"]
        ids = [str(e["run"]) for e in tune.get("runs") or []]
        # successive halving: only the finalists finish (results() says whether the race is over)
        if not tune.get("halving") and not all(RunDir(plan.output_root / "runs" / rid).is_done() for rid in ids):
            seen[key] = CellTuning(run.row, run.column, None)
            continue
        try:
            scored = results(run.config)
        except UserError:  # a tuning run's summary lacks the metric: the tuned run says so when it starts
            seen[key] = CellTuning(run.row, run.column, None)
            continue
        winner = choose(scored)
        margin = tune_margin(run.config, scored, winner)
        seen[key] = CellTuning(
            run.row,
            run.column,
            point_text(list(tune["keys"]), winner),
            tuning_warnings(run.config, scored, winner),
            "" if margin is None else margin.text(lambda p: point_text(list(tune["keys"]), p)),
            rungs_text(run.config, lambda p: point_text(list(tune["keys"]), tuple(p))) if tune.get("halving") else "",
        )
    return list(seen.values())


def render_tunings(tunings: list[CellTuning]) -> str:
    """Lines for the sweep's output: each tuned cell's winner, and a WARNING line per warning."""
    lines = []
    for t in tunings:
        lines.append(
            f"tuning {t.row} / {t.column}: "
            + (f"winner {t.winner}" if t.winner else "not finished")
            + (f"; {t.margin}" if t.margin else "")
        )
        lines += [f"  rungs: {t.rungs}"] if t.rungs else []
        lines += [f"  WARNING: {w}" for w in t.warnings]
    return "\n".join(lines)
