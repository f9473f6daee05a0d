"""Carry out a plan: submit its runs to SLURM as job arrays through submitit, or run them here (repro/sweep/local.py).

SLURM: every run that waits for nothing (plain runs, fold runs, finals whose folds are done) goes into one job array
(one sbatch). Runs that wait for others (final replay runs for their folds; a cell's runs for its tuning runs; a
student's runs for its teacher) go into small arrays held by `--dependency=afterok:<the jobs they wait for>`
(runs waiting for the same jobs share an array), submitted level by level, with
`--kill-on-invalid-dep=yes` so that a final whose fold failed is cancelled instead of waiting forever; the next
`repro sweep` resubmits both. The registry is saved after every sbatch, so an error halfway loses nothing.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import submitit

from repro.errors import UserError
from repro.sweep.array_limits import array_chunks, max_array_size
from repro.sweep.job import TrainJob
from repro.sweep.model import PlannedRun
from repro.sweep.plan import Plan
from repro.sweep.profile import ClusterProfile
from repro.sweep.registry import JobRecord, Registry, sweep_dir

Report = Callable[[str], None]
# A run that hits the time limit is requeued and resumes from its last epoch checkpoint; submitit stops after 3 time
# limits by default, too few for a 12 h limit and a multi-day run. (Preemptions do not count.)
MAX_TIME_LIMIT_REQUEUES = 20


def submit_to_slurm(plan: Plan, profile: ClusterProfile, *, report: Report = print) -> list[str]:
    """Submit `plan.to_submit`; returns the run ids submitted. Nothing done, queued or running is submitted."""
    to_submit = plan.to_submit
    if not to_submit:
        return []
    folder = sweep_dir(plan.output_root, plan.spec.name)
    registry = Registry.load(folder / "jobs.json")
    job_of = {
        rid: st.job.job_id
        for rid, st in plan.status.items()
        if st.state in ("running", "pending") and st.job is not None
    }
    done = {rid for rid, st in plan.status.items() if st.state == "done"}

    ready = [r for r in to_submit if all(d in done for d in r.depends_on)]
    submitted: list[str] = []
    try:
        if ready:
            _submit_array(ready, (), plan.spec.name, plan.output_root, profile, folder, registry, job_of, report)
            submitted += [r.run_id for r in ready]
        left = [r for r in to_submit if r not in ready]
        while left:  # level by level: a student's search waits for a teacher final that waits for its folds
            level = [r for r in left if all(d in done or d in job_of for d in r.depends_on)]
            if not level:  # a dependency with neither a summary nor a job: a bug in planning, not in the input
                raise RuntimeError(f"run {left[0].run_id} depends on runs that have no job to wait for")
            waiting: dict[tuple[str, ...], list[PlannedRun]] = {}
            for run in level:
                after = tuple(sorted({job_of[d] for d in run.depends_on if d not in done}))
                waiting.setdefault(after, []).append(run)
            for after, runs in waiting.items():
                _submit_array(runs, after, plan.spec.name, plan.output_root, profile, folder, registry, job_of, report)
                submitted += [r.run_id for r in runs]
            left = [r for r in left if r not in level]
    except SUBMIT_ERRORS as exc:
        raise _submit_failed(exc, len(submitted), registry) from None
    return submitted


SUBMIT_ERRORS = (submitit.core.utils.FailedJobError, subprocess.CalledProcessError, OSError, RuntimeError)


def _submit_failed(exc: BaseException, submitted: int, registry: Registry) -> UserError:
    return UserError(
        f"Submitting to SLURM failed: {str(exc).strip().splitlines()[-1] if str(exc).strip() else exc!r}. "
        f"{submitted} run(s) were submitted before the failure and are recorded in "
        f"{registry.path}; fix the problem and run the same command again: it submits only what is missing."
    )


def submit_and_wait(
    runs: list[PlannedRun], *, name: str, output_root: Path, profile: ClusterProfile, report: Report = print
) -> list[str]:
    """Submit `runs` (which wait for no other job: `repro sweep --preflight`'s) as one job array of sweep `name`,
    through the same submitit path as a sweep, then block until every job has ended (submitit polls SLURM's
    accounting). Returns the run ids whose job failed; each failure is reported with its log."""
    if not runs:
        return []
    folder = sweep_dir(output_root, name)
    registry = Registry.load(folder / "jobs.json")
    try:
        jobs = _submit_array(runs, (), name, output_root, profile, folder, registry, {}, report)
    except SUBMIT_ERRORS as exc:
        raise _submit_failed(exc, 0, registry) from None
    failed = []
    for run, job in zip(runs, jobs):
        try:
            job.result()
        except (submitit.core.utils.FailedJobError, submitit.core.utils.UncompletedJobError) as exc:
            failed.append(run.run_id)
            why = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
            report(f"job {job.job_id} ({run.run_id}) failed: {why} (log: {job.paths.stderr})")
    return failed


def _submit_array(
    runs: list[PlannedRun],
    after: tuple[str, ...],
    name: str,
    output_root: Path,
    profile: ClusterProfile,
    folder: Path,
    registry: Registry,
    job_of: dict[str, str],
    report: Report,
) -> list[submitit.Job]:
    stages = sorted({r.stage for r in runs})
    executor = submitit.AutoExecutor(
        folder=folder / "slurm" / "%j",
        cluster="slurm",
        slurm_python=sys.executable,
        slurm_max_num_timeout=MAX_TIME_LIMIT_REQUEUES,
    )
    params = profile.submitit_parameters()
    params["name"] = f"{name}-{'-'.join(stages)}"
    if after:
        params["slurm_dependency"] = "afterok:" + ":".join(after)
        params["slurm_additional_parameters"] = {
            **params.get("slurm_additional_parameters", {}),
            "kill-on-invalid-dep": "yes",
        }
    jobs: list[submitit.Job] = []
    for chunk in array_chunks(runs, max_array_size()):  # arrays the cluster's MaxArraySize allows
        if jobs:  # after the previous chunk, so `%N` bounds the table, not each chunk
            previous = str(jobs[-1].job_id).split("_")[0]
            params["slurm_dependency"] = ",".join(
                filter(None, [params.get("slurm_dependency"), f"afterany:{previous}"])
            )
        executor.update_parameters(**params)
        with executor.batch():
            chunk_jobs = [executor.submit(TrainJob(r.run_id, r.overrides, str(output_root))) for r in chunk]
        jobs += chunk_jobs
        now = time.time()
        for run, job in zip(chunk, chunk_jobs):
            registry.add(
                JobRecord(
                    run_id=run.run_id,
                    job_id=str(job.job_id),
                    stage=run.stage,
                    submitted=now,
                    stdout=str(job.paths.stdout),
                    stderr=str(job.paths.stderr),
                    after=after,
                )
            )
            job_of[run.run_id] = str(job.job_id)
        registry.save()  # after every sbatch: an error in the next loses nothing
    arrays = ", ".join(dict.fromkeys(str(j.job_id).split("_")[0] for j in jobs))
    report(
        f"submitted job {arrays}: {len(runs)} run(s) ({', '.join(stages)})"
        + (f", after {len(after)} job(s) they depend on succeed" if after else "")
    )
    return jobs
