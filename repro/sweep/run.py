"""`run_sweep`: a sweep file -> its spec -> its runs -> the plan -> an executor -> run directories.

Takes a sweep file (or a `SweepSpec` made in memory: `repro train -m`), the output root, the executor (local or
SLURM) and what to select; returns the `Plan` with the run ids this call trained or submitted. Each stage is one
call: `load_sweep` (repro/sweep/spec/), then `plan_sweep` (repro/sweep/sweep_plan.py: `expand_sweep`, `make_plan` told
by the SLURM executor which runs it has queued, the registered stages' decisions on it), the planned configs written
beside the plan (repro/sweep/sweep_folder.py), then `run_sweeps_locally` (repro/sweep/run_local.py, round after
round through `run_planned_runs`) or `submit_runs` (repro/sweep/executors/slurm/submit.py). The stages are asked
through their protocol (repro/sweep/protocol/base.py), never by name.
"""

from __future__ import annotations

from contextlib import nullcontext
from functools import cache, partial
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from repro.errors import UserError
from repro.sweep.ask_stages import decided, run_preflights
from repro.sweep.budget.packing import check_runs_per_gpu
from repro.sweep.cluster_profile import ClusterProfile, load_profile
from repro.sweep.dry_run import check_packing, report_dry_run
from repro.sweep.executors.elsewhere import train_elsewhere
from repro.sweep.executors.local import check_jobs
from repro.sweep.executors.slurm import cluster, submit
from repro.sweep.plan import Plan
from repro.sweep.protocol.base import Asked, Preflight
from repro.sweep.run_local import LocalSweep, run_sweeps_locally
from repro.sweep.spec.model import Scale, SweepSpec
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_folder import remember_selection, sweep_dir, write_planned_configs
from repro.sweep.sweep_plan import (
    plan_sweep,
    refuse_rows_that_need_more,
    report_plan,
    select,
    sweep_lock_reported,
    to_submit,
)

EXECUTORS = ("local", "slurm")


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
    with nullcontext() if dry_run else sweep_lock_reported(output_root, report):  # a dry run takes no lock
        plan = plan_sweep(
            spec,
            output_root=output_root,
            scale=scale,
            extra_overrides=extra_overrides,
            slurm_required=cluster_profile is not None and not dry_run,
            asked=Asked(record=not dry_run, options=dict(decision_options or {}), dry_run=dry_run, gpu_model=gpu_model),
            keep=not dry_run,  # a dry run writes nothing
        )
        report_plan(plan, report)
        for text in decided(plan):
            report(text)
        check_packing(plan, packing, gpu_model, cluster_profile, report)  # refused if K runs do not fit
        if dry_run:
            report_dry_run(plan, gpu_model, report, packing)
        else:
            remember_selection(sweep_dir(output_root, spec.name), spec, scale, extra_overrides)
        if dry_run or not to_submit(plan, report):
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
