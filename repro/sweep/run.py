"""`run_sweep`: a sweep file -> its spec -> its runs -> the plan -> an executor -> run directories.

Takes a sweep file (or a `SweepSpec` made in memory: `repro train -m`), the output root, the executor (local or
SLURM) and what to select; returns the `Plan` with the run ids this call trained or submitted. Each stage is one
call: `load_sweep` (repro/sweep/spec/), `expand_sweep` (repro/sweep/expand/), `make_plan` (repro/sweep/plan.py, told
by the SLURM executor which runs it has queued), the registered stages' decisions on it (`decide`), the planned
configs written beside the plan (repro/sweep/sweep_folder.py), then `run_planned_runs`
(repro/sweep/executors/local.py) or `submit_runs` (repro/sweep/executors/slurm/submit.py). The stages are asked
through their protocol (repro/sweep/protocol/base.py), never by name.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from repro.errors import UserError
from repro.runs.attempts import report_other_commits
from repro.sweep.ask_stages import NOTHING_ASKED, decide, decided, report_stages, run_preflights
from repro.sweep.budget.packing import check_runs_per_gpu
from repro.sweep.cluster_profile import ClusterProfile, load_profile
from repro.sweep.dry_run import check_packing, report_dry_run
from repro.sweep.executors.elsewhere import train_elsewhere
from repro.sweep.executors.local import check_jobs, run_planned_runs
from repro.sweep.executors.slurm import cluster, submit
from repro.sweep.executors.slurm.job_states import job_states
from repro.sweep.executors.slurm.registry import latest_jobs, report_new_jobs, sweep_lock
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.expansion_cache import keep_expansion, kept_runs
from repro.sweep.plan import SUBMITTABLE, JobStates, Plan, make_plan
from repro.sweep.protocol.base import Asked, Preflight
from repro.sweep.protocol.registry import kept_rows
from repro.sweep.spec.model import Scale, SweepSpec
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_folder import remember_selection, sweep_dir, write_planned_configs

EXECUTORS = ("local", "slurm")
Report = Callable[[str], None]
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
    plan = make_plan(spec, runs, output_root, job_states=_slurm_reports(output_root, slurm_required))
    plan.scale = scale
    decide(plan, asked)
    return plan


def _slurm_reports(output_root: str | Path, required: bool = False) -> JobStates:
    return partial(job_states, output_root, required=required)


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
    decision_options: Mapping[str, Any] | None = None,
    runs_per_gpu: int | None = None,
) -> Plan:
    """Plan a sweep and (unless `dry_run`) run what is missing locally (up to `jobs` runs at once; None: one per
    available core), or submit it to SLURM with `profile`.

    Idempotent: done runs are skipped, queued or running SLURM jobs are left alone, failed or vanished runs are
    resubmitted and resume from their checkpoints. Returns the plan; `plan.submitted` lists the run ids submitted
    (or run, locally) by this call and `plan.failed` those that failed locally. `path` may be a SweepSpec already
    made (`repro train -m` builds one in memory). A sweep with a baseline gate runs its gate runs first and holds the
    rest until they land near the published number (`plan.held` lists them; the gate stage,
    repro/sweep/stages/gate/); `decision_options`, the stages' options of what this call decides (`StageFlag.decides`:
    `--accept-gate` goes on anyway and records it). `runs_per_gpu` (else the profile's, else
    1): runs trained side by side per GPU (per SLURM job; locally per --jobs slot), priced and memory-checked from
    `repro bench` (repro/sweep/budget/packing.py)."""
    if executor not in EXECUTORS:
        raise UserError(f"executor={executor!r}: use 'local' (this machine) or 'slurm' (with a cluster profile).")
    if executor == "local":
        jobs = check_jobs(jobs)
    spec = path if isinstance(path, SweepSpec) else load_sweep(path)
    spec = select(spec, only, scale)
    refuse_rows_that_need_more(spec)
    output_root = Path(output_root).expanduser().resolve()
    cluster_profile = _slurm_profile(profile, reachable=not dry_run) if executor == "slurm" else None
    packing = check_runs_per_gpu(runs_per_gpu, cluster_profile)
    if not dry_run and not (scale is not None and scale.overrides()):
        # the preflight a stage declares, trained before the sweep (here, or one SLURM array waited for)
        first = cache(partial(plan_sweep, spec, output_root=output_root, scale=scale, extra_overrides=extra_overrides))
        train = train_elsewhere(jobs, cluster_profile, report)
        run_preflights(spec, first, Preflight(declared=True, train=train, report=report))
    if executor == "local" and not dry_run:
        sweep = LocalSweep(
            spec, scale, tuple(extra_overrides), decision_options=dict(decision_options or {}), gpu_model=gpu_model
        )
        return run_sweeps_locally(
            [sweep], output_root=output_root, jobs=jobs, report=report, runs_per_gpu=packing, gpu_model=gpu_model
        )[0]
    with nullcontext() if dry_run else _sweep_lock(output_root, report):  # a dry run takes no lock
        plan = plan_sweep(
            spec,
            output_root=output_root,
            scale=scale,
            extra_overrides=extra_overrides,
            slurm_required=cluster_profile is not None and not dry_run,
            asked=Asked(record=not dry_run, options=dict(decision_options or {}), dry_run=dry_run, gpu_model=gpu_model),
            keep=not dry_run,  # a dry run writes nothing
        )
        _report_plan(plan, report)
        for text in decided(plan):
            report(text)
        check_packing(plan, packing, gpu_model, cluster_profile, report)  # refused if K runs do not fit
        if dry_run:
            report_dry_run(plan, gpu_model, report, packing)
        else:
            remember_selection(sweep_dir(output_root, spec.name), spec, scale, extra_overrides)
        if dry_run or not _to_submit(plan, report):
            return plan
        assert cluster_profile is not None
        plan.submitted = _submit(plan, cluster_profile, report, packing)
        report(
            f"submitted {len(plan.submitted)} run(s); watch them with `repro sweep status {spec.path}"
            f" --output-root {output_root}`"
        )
    return plan


def _slurm_profile(profile: str | Path | None, *, reachable: bool) -> ClusterProfile:
    """The cluster profile of `--executor slurm`; with `reachable`, SLURM answers and has its partition."""
    if profile is None:
        raise UserError(
            "--executor slurm needs a cluster profile: --profile slurm/profiles/NAME.yaml (copy "
            "slurm/profiles/example-gpu.yaml and fill in your partition and account)."
        )
    cluster_profile = load_profile(profile)
    if reachable:
        cluster.check_partition(cluster_profile.partition)
    return cluster_profile


@contextmanager
def _sweep_lock(output_root: Path, report: Callable[[str], None]) -> Iterator[None]:
    """The output root's sweep lock; when another `repro sweep` held it, say what that one submitted meanwhile."""
    before = latest_jobs(output_root)
    with sweep_lock(output_root, report=report) as waited:
        if waited:
            report_new_jobs(before, latest_jobs(output_root), report)
        yield


def _report_plan(plan: Plan, report: Callable[[str], None]) -> None:
    report(plan.describe())
    report(plan.summary_table())
    report_other_commits(plan, report)  # done runs made at another commit: skipped, and said so


def _to_submit(plan: Plan, report: Callable[[str], None]) -> bool:
    """Whether the plan has runs to submit; if not, say so."""
    if plan.to_submit:
        return True
    report("nothing to submit" + (": every run is done" if plan.counts()["done"] == len(plan.unique) else ""))
    return False


def _submit(plan: Plan, profile: ClusterProfile, report: Callable[[str], None], runs_per_gpu: int = 1) -> list[str]:
    """Write the planned configs of the runs to submit beside the plan, and submit them to SLURM."""
    folder = sweep_dir(plan.output_root, plan.spec.name)
    return submit.submit_runs(
        plan.to_submit,
        done=plan.done,
        queued=plan.queued,
        configs=write_planned_configs(folder, plan.to_submit),
        name=plan.spec.name,
        output_root=plan.output_root,
        profile=profile,
        report=report,
        runs_per_gpu=runs_per_gpu,
    )


@dataclass(frozen=True)
class LocalSweep:
    """One sweep (already selected) to run here, at a scale, with extra overrides; `heading` is printed first."""

    spec: SweepSpec
    scale: Scale | None = None
    extra_overrides: tuple[str, ...] = ()
    heading: str | None = None
    # the stages' options of what this call decides (`StageFlag.decides`: `--accept-gate` goes on past a baseline
    # gate that holds, and records it)
    decision_options: Mapping[str, Any] = field(default_factory=dict)
    gpu_model: str | None = None  # the calibration its decisions price at (`--max-gpu-hours`; None: this machine's)

    def asked(self) -> Asked:
        """How its stages are asked to decide: record, with this call's decision options, at its calibration."""
        return Asked(record=True, options=self.decision_options, gpu_model=self.gpu_model)


def run_sweeps_locally(
    sweeps: Sequence[LocalSweep],
    *,
    output_root: str | Path,
    jobs: int | None = 1,
    threads: int | None = None,
    report: Callable[[str], None] = print,
    runs_per_gpu: int = 1,
    gpu_model: str | None = None,
) -> list[Plan]:
    """Plan several sweeps of one output root (under one sweep lock), train what any of them misses here in one go
    (up to `jobs` at once; a run that several sweeps share trains once), then find each run's state again. A sweep
    whose stages held runs until the runs they wait for were done (the baseline gate, repro/sweep/stages/gate/gate.py;
    the estimated-T hold, repro/sweep/stages/estimated_t/) gets a further round for what they then let go, until no
    stage releases more; a run this call already trained or failed is not trained again. Returns the plans after
    training, each with `submitted` / `failed` = its runs trained / failed or skipped by this call."""
    for sweep in sweeps:
        refuse_rows_that_need_more(sweep.spec)
    output_root = Path(output_root).expanduser().resolve()
    with _sweep_lock(output_root, report):
        plans = [_plan_here(sweep, output_root, report) for sweep in sweeps]
        for plan in plans:
            check_packing(plan, runs_per_gpu, gpu_model, None, report)
        ran: list[str] = []
        failed: list[str] = []
        rounds = list(range(len(plans)))
        while rounds:  # later rounds: only what a stage released once the runs it waited for were done
            tried = {*ran, *failed}  # trained or failed by this call: not trained again in it
            todo = {i: [r for r in plans[i].to_submit if r.run_id not in tried] for i in rounds}
            trained = [i for i in rounds if todo[i]]
            if not trained:
                break
            configs: dict[str, Path] = {}
            for i in trained:  # a run several sweeps share trains from its first sweep's planned config
                folder = sweep_dir(output_root, plans[i].spec.name)
                configs = {**write_planned_configs(folder, todo[i]), **configs}
            got, lost = run_planned_runs(
                list({r.run_id: r for i in trained for r in todo[i]}.values()),
                done={rid for plan in plans for rid in plan.done},
                jobs=jobs,
                threads=threads,
                metric=plans[0].spec.metric,
                configs=configs,
                report=report,
                runs_per_gpu=runs_per_gpu,
            )
            ran, failed = ran + got, [rid for rid in failed if rid not in got] + lost
            held = {i: plans[i].held for i in trained}
            for i in trained:
                plans[i] = _after_training(plans[i], sweeps[i], ran, failed, report)
            rounds = [i for i in trained if any(plans[i].status[rid].state in SUBMITTABLE for rid in held[i])]
        return plans


def _plan_here(sweep: LocalSweep, output_root: Path, report: Callable[[str], None]) -> Plan:
    """Plan one sweep to train here: report it, its stages' decisions (the baseline gate holds runs) and remember
    what it was asked for."""
    if sweep.heading:
        report(sweep.heading)
    plan = plan_sweep(
        sweep.spec,
        output_root=output_root,
        scale=sweep.scale,
        extra_overrides=sweep.extra_overrides,
        asked=sweep.asked(),
        keep=True,
    )
    _report_plan(plan, report)
    remember_selection(sweep_dir(output_root, sweep.spec.name), sweep.spec, sweep.scale, sweep.extra_overrides)
    for text in decided(plan):
        report(text)
    if not _to_submit(plan, report):
        report_stages(plan, report)
    return plan


def _after_training(
    plan: Plan, sweep: LocalSweep, ran: list[str], failed: list[str], report: Callable[[str], None]
) -> Plan:
    """The plan's runs' states after this call trained `ran` (and `failed`), found again without re-planning, and
    its stages asked again (the runs a stage waited for may be done now)."""
    again = make_plan(plan.spec, plan.runs, plan.output_root, job_states=_slurm_reports(plan.output_root))
    again.scale = plan.scale
    decide(again, sweep.asked())
    again.submitted = [rid for rid in ran if rid in again.unique]
    again.failed = [rid for rid in failed if rid in again.unique]
    report(again.describe())
    for text in decided(again):
        report(text)
    report_stages(again, report)
    return again
