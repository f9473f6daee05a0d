"""A sweep's plan, the step before anything trains: the rows and seeds asked for (`select`), the rows no method can
run yet refused (`refuse_rows_that_need_more`), the expansion and each run's state with the stages' decisions on it
(`plan_sweep`), and the plan's report. `repro sweep` (repro/sweep/run.py), a local run of several sweeps
(repro/sweep/run_local.py), `repro sweep status` and `repro plan` all plan through it.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from repro.errors import UserError
from repro.runs.attempts import report_other_commits
from repro.sweep.ask_stages import NOTHING_ASKED, decide
from repro.sweep.executors.slurm.job_states import job_states
from repro.sweep.executors.slurm.registry import latest_jobs, report_new_jobs, sweep_lock
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.expansion_cache import keep_expansion, kept_runs
from repro.sweep.plan import JobStates, Plan, make_plan
from repro.sweep.protocol.base import Asked
from repro.sweep.protocol.registry import kept_rows
from repro.sweep.spec.model import Scale, SweepSpec

_ONLY_KEYS = ("rows", "columns", "seeds")


def select(spec: SweepSpec, only: Mapping[str, Sequence[Any]] | None, scale: Scale | None = None) -> SweepSpec:
    """The sweep restricted to `only` = {"rows": [...], "columns": [...], "seeds": [...]} (each key optional), with
    the rows a stage keeps at `scale` (the baseline gate's)."""
    if not only:
        return spec
    unknown = [k for k in only if k not in _ONLY_KEYS]
    if unknown:
        raise UserError(f"only={dict(only)!r}: unknown key {unknown[0]!r}; use rows, columns and/or seeds.")
    rows = only.get("rows")
    if rows is not None and set(rows) <= set(spec.rows):  # --rows keeps the rows a stage keeps (the gate's)
        kept = kept_rows(spec, scale)
        rows = [r for r in spec.rows if r in rows or r in kept]
    return spec.select(**{k: (list(v) if v is not None else None) for k, v in {**only, "rows": rows}.items()})


def refuse_rows_that_need_more(spec: SweepSpec) -> None:
    """A row that needs a method that does not exist yet is refused, not silently left out or faked."""
    if not spec.needs:
        return
    runnable = [r for r in spec.rows if r not in spec.needs]
    needs = "; ".join(f"{row!r} needs {what}" for row, what in spec.needs.items())
    hint = (
        f" Run the other rows with --rows {' '.join(repr(r) for r in runnable)}."
        if runnable
        else " No row of this table can run yet."
    )
    raise UserError(f"{spec.path}: {len(spec.needs)} row(s) cannot run with the methods that exist: {needs}.{hint}")


def plan_sweep(
    spec: SweepSpec,
    *,
    output_root: str | Path,
    scale: Scale | None = None,
    extra_overrides: Sequence[str] = (),
    slurm_required: bool = False,
    asked: Asked = NOTHING_ASKED,
    keep: bool = False,
    reuse_kept: bool = False,
) -> Plan:
    """Expand, find each run's state (done / queued / running / failed / new) and let the registered stages decide
    on it (`asked`: what they record and what the user accepts; their paragraphs are the plan's `decisions`); SLURM
    is asked about the runs that have a job (with `slurm_required`, a SLURM that cannot be asked is an error).
    `keep`: the expansion is kept in the sweep's folder for the results index (repro/sweep/expansion_cache.py);
    `reuse_kept`: the kept expansion is read where one was kept for this very expansion (for a command that trains
    nothing: a run trains from its own expansion)."""
    runs = None
    if reuse_kept:
        runs = kept_runs(spec, output_root=str(output_root), scale=scale, extra_overrides=list(extra_overrides))
    if runs is None:
        runs = expand_sweep(spec, output_root=output_root, scale=scale, extra_overrides=extra_overrides)
    if keep:
        keep_expansion(spec, runs, output_root=str(output_root), scale=scale, extra_overrides=list(extra_overrides))
    plan = make_plan(spec, runs, output_root, job_states=slurm_reports(output_root, slurm_required))
    plan.scale = scale
    decide(plan, asked)
    return plan


def slurm_reports(output_root: str | Path, required: bool = False) -> JobStates:
    return partial(job_states, output_root, required=required)


@contextmanager
def sweep_lock_reported(output_root: Path, report: Callable[[str], None]) -> Iterator[None]:
    """The output root's sweep lock; when another `repro sweep` held it, say what that one submitted meanwhile."""
    before = latest_jobs(output_root)
    with sweep_lock(output_root, report=report) as waited:
        if waited:
            report_new_jobs(before, latest_jobs(output_root), report)
        yield


def report_plan(plan: Plan, report: Callable[[str], None]) -> None:
    report(plan.describe())
    report(plan.summary_table())
    report_other_commits(plan, report)  # done runs made at another commit: skipped, and said so


def to_submit(plan: Plan, report: Callable[[str], None]) -> bool:
    """Whether the plan has runs to submit; if not, say so."""
    if plan.to_submit:
        return True
    report("nothing to submit" + (": every run is done" if plan.counts()["done"] == len(plan.unique) else ""))
    return False
