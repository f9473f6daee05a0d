"""The tuned cells' dependency graph in `repro sweep --dry-run` (TuneStage.graph): per tuned cell, its tuning runs
and the runs that wait for them."""

from __future__ import annotations

from tabulate import tabulate

from repro.sweep.plan import Plan


def has_tuning(plan: Plan) -> bool:
    return any(r.stage == "tune" for r in plan.unique.values())


def tuning_graph(plan: Plan) -> str:
    """One line per tuned (row, column): its grid, its tuning runs (done / failed) and the runs that depend on them
    (by stage), which pick the winner when they start."""
    cells: dict[tuple[str, str], dict] = {}
    for rid, run in plan.unique.items():
        if run.stage == "tune":
            cell = cells.setdefault((run.row, run.column), {"tune": [], "deps": {}})
            cell["tune"].append(rid)
    for run in plan.unique.values():
        cell = cells.get((run.row, run.column))
        if cell is not None and run.stage != "tune" and set(run.depends_on) & set(cell["tune"]):
            cell["deps"][run.stage] = cell["deps"].get(run.stage, 0) + 1
    body = []
    for (row, column), cell in cells.items():
        first = plan.unique[cell["tune"][0]].config
        keys = [str(k) for k in _tuned_keys(plan, cell["tune"][0])]
        states = [plan.status[r].state for r in cell["tune"]]
        jobs = "rung jobs" if (first.get("halving") or {}).get("rung") is not None else "runs"
        shown = f"{len(states)} {jobs} ({states.count('done')} done" + (
            f", {states.count('failed')} failed)" if states.count("failed") else ")"
        )
        body.append(
            [
                row,
                column,
                ", ".join(k.split(".")[-1] for k in keys),
                shown,
                _schedule(first)
                + (
                    "the clean meta set"
                    if first["noise"].get("kind") != "none"
                    else f"fold {first['split']['fold']} held out"
                ),
                ", ".join(f"{n} {stage}" for stage, n in cell["deps"].items()),
            ]
        )
    return "tuning stage (tuning runs -> the runs that wait for them and train with the winner):\n" + tabulate(
        body, headers=["row", "column", "tunes", "tuning runs", "each", "then"], tablefmt="simple"
    )


def _schedule(config: dict) -> str:
    """'8 epochs, ' or, for successive halving, 'halving to epochs 1, 3, 8, '."""
    node = config.get("halving") or {}
    if node.get("rung") is None:
        return f"{config['optim']['epochs']} epochs, "
    return f"halving (eta {node['eta']}) to epochs {', '.join(map(str, node['epochs']))}, "


def _tuned_keys(plan: Plan, tune_run: str) -> list[str]:
    """The keys a tuning run's dependents tune (read from one of them: the tuning run's own config is untuned)."""
    for run in plan.unique.values():
        if tune_run in run.depends_on and run.stage != "tune":
            return list(run.config.get("tune", {}).get("keys") or [])
    return []
