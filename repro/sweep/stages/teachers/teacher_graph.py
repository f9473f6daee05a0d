"""The students' dependency graph in `repro sweep --dry-run` (TeacherStage.graph): per reported student run, its
teacher (another table's run), its tuning runs and itself."""

from __future__ import annotations

from tabulate import tabulate

from repro.sweep.plan import Plan


def has_students(plan: Plan) -> bool:
    return any(r.stage == "teacher" for r in plan.unique.values())


def student_graph(plan: Plan) -> str:
    """One line per (row, column, seed) student: teacher -> tuning runs -> reported run, with states."""
    body = []
    for run in plan.runs:
        if run.stage not in ("single", "final"):
            continue
        deps = [plan.unique[d] for d in run.depends_on if d in plan.unique]
        teachers = [d for d in deps if d.stage == "teacher"]
        if not teachers:
            continue
        tuning = [d for d in deps if d.stage == "tune"]
        done = sum(plan.status[s.run_id].state == "done" for s in tuning)
        teacher = teachers[0]
        body.append(
            [
                run.row,
                run.column,
                run.seed,
                f"{teacher.run_id} ({_state(plan, teacher.run_id)})",
                f"{len(tuning)} runs ({done} done)" if tuning else "-",
                f"{run.stage} {run.run_id} ({_state(plan, run.run_id)})",
            ]
        )
    teachers = [rid for rid, r in plan.unique.items() if r.stage.startswith("teacher")]
    states = {s: sum(plan.status[rid].state == s for rid in teachers) for s in ("done", "pending", "running")}
    head = (
        f"teachers from other tables: {len(teachers)} runs (folds and tuning included): {states['done']} done "
        f"(used), {states['pending'] + states['running']} queued or running (waited for), "
        f"{len(teachers) - sum(states.values())} to train with this sweep\n"
    )
    return (
        head
        + "students (teacher -> tuning runs -> reported run):\n"
        + tabulate(body, headers=["row", "column", "seed", "teacher", "tuning", "student"], tablefmt="simple")
    )


def _state(plan: Plan, run_id: str) -> str:
    status = plan.status[run_id]
    return status.state + (
        f" {status.job_id}" if status.job_id is not None and status.state in ("pending", "running") else ""
    )
