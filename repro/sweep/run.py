"""`run_sweep`: expand a sweep file, plan it against what exists, and run or submit what is missing."""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from repro.errors import UserError
from repro.runs.io import atomic_write_json
from repro.sweep.plan import Plan, make_plan
from repro.sweep.registry import latest_jobs, report_new_jobs, sweep_dir, sweep_lock
from repro.sweep.spec import Scale, SweepSpec, expand_sweep, load_sweep

EXECUTORS = ("local", "slurm")
_ONLY_KEYS = ("rows", "columns", "seeds")


def select(spec: SweepSpec, only: Mapping[str, Sequence[Any]] | None) -> SweepSpec:
    """The sweep restricted to `only` = {"rows": [...], "columns": [...], "seeds": [...]} (each key optional)."""
    if not only:
        return spec
    unknown = [k for k in only if k not in _ONLY_KEYS]
    if unknown:
        raise UserError(f"only={dict(only)!r}: unknown key {unknown[0]!r}; use rows, columns and/or seeds.")
    return spec.select(**{k: (list(v) if v is not None else None) for k, v in only.items()})


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
) -> Plan:
    """Expand and find each run's state (done / queued / running / failed / new)."""
    runs = expand_sweep(spec, output_root=output_root, scale=scale, extra_overrides=extra_overrides)
    return make_plan(spec, runs, output_root, slurm_required=slurm_required)


def run_sweep(
    path: str | Path | SweepSpec,
    *,
    output_root: str | Path = "outputs",
    executor: str = "local",
    profile: str | Path | None = None,
    scale: Scale | None = None,
    dry_run: bool = False,
    only: Mapping[str, Sequence[Any]] | None = None,
    extra_overrides: Sequence[str] = (),
    report: Callable[[str], None] = print,
    gpu_model: str | None = None,
    jobs: int | None = 1,
) -> Plan:
    """Plan a sweep and (unless `dry_run`) run what is missing locally (up to `jobs` runs at once; None: one per
    available core), or submit it to SLURM with `profile`.

    Idempotent: done runs are skipped, queued or running SLURM jobs are left alone, failed or vanished runs are
    resubmitted and resume from their checkpoints. Returns the plan; `plan.submitted` lists the run ids submitted
    (or run, locally) by this call and `plan.failed` those that failed locally. `path` may be a SweepSpec already
    made (`repro train -m` builds one in memory)."""
    if executor not in EXECUTORS:
        raise UserError(f"executor={executor!r}: use 'local' (this machine) or 'slurm' (with a cluster profile).")
    if executor == "local":
        from repro.sweep.local import check_jobs

        jobs = check_jobs(jobs)
    spec = select(path if isinstance(path, SweepSpec) else load_sweep(path), only)
    refuse_rows_that_need_more(spec)
    output_root = Path(output_root).expanduser().resolve()
    cluster_profile = None
    if executor == "slurm":
        from repro.sweep import cluster
        from repro.sweep.profile import load_profile

        if profile is None:
            raise UserError(
                "--executor slurm needs a cluster profile: --profile slurm/profiles/NAME.yaml (copy "
                "slurm/profiles/example-gpu.yaml and fill in your partition and account)."
            )
        cluster_profile = load_profile(profile)
        if not dry_run:
            cluster.check_partition(cluster_profile.partition)
    if executor == "local" and not dry_run:
        return run_sweeps_locally(
            [LocalSweep(spec, scale, tuple(extra_overrides))], output_root=output_root, jobs=jobs, report=report
        )[0]
    folder = sweep_dir(output_root, spec.name)
    before = {} if dry_run else latest_jobs(output_root)
    with nullcontext(False) if dry_run else sweep_lock(output_root, report=report) as waited:  # dry run: no lock
        if waited:
            report_new_jobs(before, latest_jobs(output_root), report)
        plan = plan_sweep(
            spec,
            output_root=output_root,
            scale=scale,
            extra_overrides=extra_overrides,
            slurm_required=executor == "slurm" and not dry_run,
        )
        report(plan.describe())
        report(plan.summary_table())
        from repro.runs.attempts import report_other_commits

        report_other_commits(plan, report)  # done runs made at another commit: skipped, and said so
        if dry_run:
            from repro.sweep.costs import plan_estimate
            from repro.sweep.graph import has_students, has_tuning, student_graph, tuning_graph

            if has_tuning(plan):
                report(tuning_graph(plan))
            if has_students(plan):
                report(student_graph(plan))
            report(plan_estimate(plan, gpu_model).render())
            if has_tuning(plan):  # the grid's GPU-hours beside successive halving's (repro/sweep/halving_costs.py)
                from repro.sweep.halving_costs import strategy_costs

                report(strategy_costs(plan, gpu_model).render())
        else:
            remember_selection(folder, spec, scale, extra_overrides)
        if dry_run or not plan.to_submit:
            if not plan.to_submit:
                report(
                    "nothing to submit" + (": every run is done" if plan.counts()["done"] == len(plan.unique) else "")
                )
            return plan
        from repro.sweep.submit import submit_to_slurm

        assert cluster_profile is not None
        plan.submitted = submit_to_slurm(plan, cluster_profile, report=report)
        report(
            f"submitted {len(plan.submitted)} run(s); watch them with `repro sweep status {spec.path}"
            f" --output-root {output_root}`"
        )
    return plan


@dataclass(frozen=True)
class LocalSweep:
    """One sweep (already selected) to run here, at a scale, with extra overrides; `heading` is printed first."""

    spec: SweepSpec
    scale: Scale | None = None
    extra_overrides: tuple[str, ...] = ()
    heading: str | None = None


def run_sweeps_locally(
    sweeps: Sequence[LocalSweep],
    *,
    output_root: str | Path,
    jobs: int | None = 1,
    threads: int | None = None,
    report: Callable[[str], None] = print,
) -> list[Plan]:
    """Plan several sweeps of one output root (under one sweep lock), train what any of them misses here in one go
    (up to `jobs` runs at once; a run that several sweeps share trains once), then plan each again. Returns the
    plans after training, each with `submitted` / `failed` = its runs trained / failed or skipped by this call."""
    from repro.runs.attempts import report_other_commits
    from repro.sweep.local import run_planned_runs

    for sweep in sweeps:
        refuse_rows_that_need_more(sweep.spec)
    output_root = Path(output_root).expanduser().resolve()
    before = latest_jobs(output_root)
    with sweep_lock(output_root, report=report) as waited:
        if waited:
            report_new_jobs(before, latest_jobs(output_root), report)
        plans = []
        for sweep in sweeps:
            if sweep.heading:
                report(sweep.heading)
            plan = plan_sweep(
                sweep.spec, output_root=output_root, scale=sweep.scale, extra_overrides=sweep.extra_overrides
            )
            report(plan.describe())
            report(plan.summary_table())
            report_other_commits(plan, report)  # done runs made at another commit: skipped, and said so
            remember_selection(sweep_dir(output_root, sweep.spec.name), sweep.spec, sweep.scale, sweep.extra_overrides)
            if not plan.to_submit:
                report(
                    "nothing to submit" + (": every run is done" if plan.counts()["done"] == len(plan.unique) else "")
                )
                _report_tunings(plan, report)
            plans.append(plan)
        todo = list({r.run_id: r for plan in plans for r in plan.to_submit}.values())
        if not todo:
            return plans
        done = {rid for plan in plans for rid, st in plan.status.items() if st.state == "done"}
        ran, failed = run_planned_runs(
            todo,
            done=done,
            jobs=jobs,
            threads=threads,
            metric=plans[0].spec.metric,
            output_root=output_root,
            report=report,
        )
        after = []
        for sweep, plan in zip(sweeps, plans):
            if not plan.to_submit:
                after.append(plan)
                continue
            again = plan_sweep(
                sweep.spec, output_root=output_root, scale=sweep.scale, extra_overrides=sweep.extra_overrides
            )
            again.submitted = [rid for rid in ran if rid in again.unique]
            again.failed = [rid for rid in failed if rid in again.unique]
            report(again.describe())
            _report_tunings(again, report)
            after.append(again)
    return after


def _report_tunings(plan: Plan, report: Callable[[str], None]) -> None:
    """Each tuned cell's winner, and a warning where its grid may have missed (repro/training/tune_warnings.py)."""
    from repro.sweep.tune_report import cell_tunings, render_tunings

    text = render_tunings(cell_tunings(plan))
    if text:
        report(text)


def remember_selection(folder: Path, spec: SweepSpec, scale: Scale | None, extra: Sequence[str]) -> None:
    """What the last run of this sweep was asked for, so `repro sweep status FILE` shows the same runs."""
    atomic_write_json(
        folder / "selection.json",
        {
            "rows": spec.rows,
            "columns": spec.columns,
            "seeds": spec.seeds,
            "scale": None
            if scale is None
            else {
                "epochs": scale.epochs,
                "subset": scale.subset,
                "test_subset": scale.test_subset,
                "tune_strategy": scale.tune_strategy,
            },
            "extra_overrides": list(extra),
        },
    )


def last_selection(output_root: str | Path, name: str) -> dict | None:
    path = sweep_dir(output_root, name) / "selection.json"
    return json.loads(path.read_text()) if path.exists() else None
