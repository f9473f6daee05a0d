"""What the tuning stage says of a table of its sweep's runs (`Stage.notes`), and what it decided of a tuned run that
trains nothing: the winning tuning run whose records it takes, read from the tuning runs' results on the plan
(`Plan.result`: their run directories, or the records the plan was given, say from the W&B API, where such a run
logged nothing of its own)."""

from __future__ import annotations

import math

from repro.sweep.plan import Plan
from repro.sweep.spec.model import SweepSpec
from repro.sweep.stages.tune.halving import mean_score
from repro.sweep.stages.tune.tune_spec import cell_tune, scaled
from repro.sweep.stages.tune.tuning import choose, same_training


def tuning_heading(plan: Plan) -> tuple[str, ...]:
    """The line beside a table's header: what each tuned row (per column, where its columns tune differently) tuned,
    where and how, with the strategy and seeds the plan's scale sets."""
    spec, notes = plan.spec, {}
    if not isinstance(spec, SweepSpec):  # a table made without a sweep file has no tuning stage
        return ()
    for row in spec.rows:
        if row in spec.needs:
            continue
        for column in spec.row_columns(row):
            tune = scaled(cell_tune(spec, row, column), plan.scale)
            if tune is not None:
                rows = notes.setdefault(tune.describe(), [])
                if row not in rows:
                    rows.append(row)
    if not notes:
        return ()
    described = "; ".join(f"{', '.join(rows)}: {text}" for text, rows in notes.items())
    return (
        "tuned: the values the cell's runs chose on validation (never test) from its tuning runs; ties go to the "
        f"grid's first value. Tuning stages: {described}.",
    )


def settle_takes(plan: Plan) -> None:
    """Mark each tuned run that trains nothing whose tuning runs are all done (`plan.takes`): the winner's tuning run
    of its seed (`same_training` at the point `choose` picks), whose records it takes. Successive halving's tuned
    runs are left out: their race is decided from the rung jobs' run directories when the run starts."""
    for rid, run in plan.unique.items():
        tune = run.config.get("tune") if isinstance(run.config, dict) else None
        if run.trains or not isinstance(tune, dict) or tune.get("halving") or not tune.get("runs"):
            continue
        points: dict[tuple, list[float]] = {}
        for entry in tune["runs"]:
            score = (plan.result(str(entry["run"])) or {}).get(tune["select"])
            if not isinstance(score, (int, float)) or isinstance(score, bool) or not math.isfinite(score):
                break
            points.setdefault(tuple(entry["values"]), []).append(float(score))
        else:
            winner = choose([(point, mean_score(scores), []) for point, scores in points.items()])
            source = same_training(run.config).get(winner)
            if source is not None:
                plan.takes[rid] = source
