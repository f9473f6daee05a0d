"""The dry run's table of what a full epoch of each kind of run costs: its steps, its evaluation passes and its fixed
cost (repro/sweep/budget/epoch_cost.py), priced as the estimate prices them (repro/sweep/budget/costs.py)."""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

from tabulate import tabulate

from repro.sweep.budget.costs import epoch_parts, run_sizes, step_kind


def epoch_table(runs: Iterable[Mapping[str, Any]], cal: Any) -> str:
    """One line per distinct (model, data, step kind, training images, batch) of `runs`: what an epoch is priced."""
    rows: dict[tuple, list[Any]] = {}
    for config in runs:
        n_train = run_sizes(config)[0]
        model, data = config["model"]["name"], config["data"]["name"]
        key = (model, data, step_kind(config).key, n_train, config["data"]["batch_size"])
        if key in rows:
            continue
        got = epoch_parts(config, cal)
        if got is None:
            continue
        steps, step_s, eval_s, fixed_s = got
        total = step_s + eval_s + fixed_s
        if math.isfinite(total):
            rows[key] = [*key, steps, f"{step_s:.2f}", f"{eval_s:.2f}", f"{fixed_s:.2f}", f"{total:.2f}"]
    if not rows:
        return ""
    headers = ["model", "data", "step", "train images", "batch", "steps", "steps s", "eval s", "fixed s", "epoch s"]
    return "per epoch (a full epoch of each kind of run; fixed: loader, evaluation set-up, records, checkpoint):\n" + (
        tabulate(list(rows.values()), headers=headers, tablefmt="simple", disable_numparse=True)
    )
