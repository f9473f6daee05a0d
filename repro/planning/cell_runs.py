"""Which runs a cell needs at a seed: its own runs in a plan and, transitively, what they depend on (tuning, folds,
teachers, mentors). What a line at n seeds pays for, in the fixed seeds' plan and in the seeds-until-decided one."""

from __future__ import annotations

from repro.sweep.plan import Plan
from repro.sweep.spec.model import PlannedRun

Cell = tuple[str, str]  # (row, column)


def cell_runs(plan: Plan) -> dict[tuple[Cell, int], frozenset[str]]:
    """(cell, seed) -> every run id it needs: its own runs and, transitively, what they depend on."""
    by_id = {r.run_id: r for r in plan.runs}
    own: dict[tuple[Cell, int], set[str]] = {}
    for run in plan.runs:
        own.setdefault(((run.row, run.column), run.seed), set()).add(run.run_id)
    return {key: frozenset(_closure(ids, by_id)) for key, ids in own.items()}


def _closure(ids: set[str], by_id: dict[str, PlannedRun]) -> set[str]:
    found, todo = set(), list(ids)
    while todo:
        rid = todo.pop()
        if rid in found or rid not in by_id:
            continue
        found.add(rid)
        todo.extend(by_id[rid].depends_on)
    return found
