"""The dependency graph of a sweep's students, for `repro sweep --dry-run`: per reported student run, its teacher
(another table's run), its temperature search and itself, each with its state."""

from __future__ import annotations

from tabulate import tabulate

from repro.sweep.plan import Plan


def has_students(plan: Plan) -> bool:
    return any(r.stage == "teacher" for r in plan.unique.values())


def student_graph(plan: Plan) -> str:
    """One line per (row, column, seed) student: teacher -> search runs -> reported run, with states."""
    body = []
    for run in plan.runs:
        if run.stage not in ("single", "final"):
            continue
        deps = [plan.unique[d] for d in run.depends_on if d in plan.unique]
        teachers = [d for d in deps if d.stage == "teacher"]
        if not teachers:
            continue
        searches = [d for d in deps if d.stage == "search"]
        done = sum(plan.status[s.run_id].state == "done" for s in searches)
        teacher = teachers[0]
        body.append([run.row, run.column, run.seed,
                     f"{teacher.run_id} ({_state(plan, teacher.run_id)})",
                     f"{len(searches)} runs ({done} done)" if searches else "-",
                     f"{run.stage} {run.run_id} ({_state(plan, run.run_id)})"])
    teachers = [rid for rid, r in plan.unique.items() if r.stage in ("teacher", "teacher fold")]
    states = {s: sum(plan.status[rid].state == s for rid in teachers) for s in ("done", "pending", "running")}
    head = (f"teachers from other tables: {len(teachers)} runs (folds included): {states['done']} done (used), "
            f"{states['pending'] + states['running']} queued or running (waited for), "
            f"{len(teachers) - sum(states.values())} to train with this sweep\n")
    return head + "students (teacher -> temperature search -> reported run):\n" + tabulate(
        body, headers=["row", "column", "seed", "teacher", "search", "student"], tablefmt="simple")


def _state(plan: Plan, run_id: str) -> str:
    status = plan.status[run_id]
    return status.state + (f" {status.job.job_id}" if status.job is not None and status.state in ("pending", "running")
                           else "")
