"""Submit planned runs to SLURM as job arrays through submitit.

Takes the planned runs to submit, the ids of the runs already done, the job ids of the runs queued or running, and
each run's planned config file (what its job trains: repro/sweep/sweep_folder.py, repro/sweep/executors/job.py);
returns the run ids submitted, each recorded in the sweep's job registry (registry.py).

Every run that waits for nothing (plain runs, fold runs, finals whose folds are done) goes into one job array
(one sbatch). Runs that wait for others (final replay runs for their folds; a cell's runs for its tuning runs; a
student's runs for its teacher) go into small arrays held by `--dependency=afterok:<the jobs they wait for>`
(runs waiting for the same jobs share an array), submitted level by level, with
`--kill-on-invalid-dep=yes` so that a final whose fold failed is cancelled instead of waiting forever; the next
`repro sweep` resubmits both. The registry is saved after every sbatch, so an error halfway loses nothing.

With `runs_per_gpu` K > 1, each job (array element) trains K runs side by side (repro/sweep/executors/packed.py);
runs are packed only with runs that wait for the same jobs, and the packed job fails if any of its runs fails, so an
`afterok` dependent never starts after a failed run (a dependent of a sibling that succeeded is cancelled with the
job and resubmitted by the next `repro sweep`, its dependency then done). Every run of a packed job is recorded in the
registry under the job's id, so `repro sweep status` shows each run.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Collection, Mapping, Sequence

import submitit

from repro.errors import UserError
from repro.sweep.cluster_profile import ClusterProfile
from repro.sweep.executors.job import TrainJob
from repro.sweep.executors.packed import PackedJob
from repro.sweep.executors.slurm.array_limits import array_chunks, max_array_size
from repro.sweep.executors.slurm.registry import JobRecord, Registry
from repro.sweep.spec.model import PlannedRun
from repro.sweep.sweep_folder import sweep_dir

Report = Callable[[str], None]
# A run that hits the time limit is requeued and resumes from its last epoch checkpoint; submitit stops after 3 time
# limits by default, too few for a 12 h limit and a multi-day run. (Preemptions do not count.)
MAX_TIME_LIMIT_REQUEUES = 20


@dataclass(frozen=True)
class Target:
    """Where a sweep's jobs go: its name and output root, the cluster profile, its job registry, and the planned
    config file of each run."""

    name: str
    output_root: Path
    profile: ClusterProfile
    registry: Registry
    configs: Mapping[str, Path]
    report: Report
    runs_per_gpu: int = 1  # runs trained side by side by one job (packed.py)

    @property
    def folder(self) -> Path:
        return sweep_dir(self.output_root, self.name)


def submit_runs(
    runs: Sequence[PlannedRun],
    *,
    done: Collection[str],
    queued: Mapping[str, str],
    configs: Mapping[str, Path],
    name: str,
    output_root: Path,
    profile: ClusterProfile,
    report: Report = print,
    runs_per_gpu: int = 1,
) -> list[str]:
    """Submit `runs` (none of them done, queued or running) of sweep `name`; returns the run ids submitted.
    `done`: the run ids done; `queued`: run id -> job id of the runs queued or running, which runs wait for;
    `runs_per_gpu`: runs per job, trained side by side (packed.py)."""
    if not runs:
        return []
    registry = Registry.load(sweep_dir(output_root, name) / "jobs.json")
    target = Target(name, output_root, profile, registry, configs, report, runs_per_gpu)
    job_of = dict(queued)
    ready = [r for r in runs if all(d in done for d in r.depends_on)]
    submitted: list[str] = []
    try:
        if ready:
            _submit_array(ready, (), target, job_of)
            submitted += [r.run_id for r in ready]
        left = [r for r in runs if r not in ready]
        while left:  # level by level: a student's search waits for a teacher final that waits for its folds
            level = [r for r in left if all(d in done or d in job_of for d in r.depends_on)]
            if not level:  # a dependency with neither a summary nor a job: a bug in planning, not in the input
                raise RuntimeError(f"run {left[0].run_id} depends on runs that have no job to wait for")
            waiting: dict[tuple[str, ...], list[PlannedRun]] = {}
            for run in level:
                after = tuple(sorted({job_of[d] for d in run.depends_on if d not in done}))
                waiting.setdefault(after, []).append(run)
            for after, arrays in waiting.items():
                _submit_array(arrays, after, target, job_of)
                submitted += [r.run_id for r in arrays]
            left = [r for r in left if r not in level]
    except SUBMIT_ERRORS as exc:
        raise _submit_failed(exc, len(submitted), target.registry) from None
    return submitted


SUBMIT_ERRORS = (submitit.core.utils.FailedJobError, subprocess.CalledProcessError, OSError, RuntimeError)


def _submit_failed(exc: BaseException, submitted: int, registry: Registry) -> UserError:
    return UserError(
        f"Submitting to SLURM failed: {str(exc).strip().splitlines()[-1] if str(exc).strip() else exc!r}. "
        f"{submitted} run(s) were submitted before the failure and are recorded in "
        f"{registry.path}; fix the problem and run the same command again: it submits only what is missing."
    )


def submit_and_wait(
    runs: list[PlannedRun],
    *,
    configs: Mapping[str, Path],
    name: str,
    output_root: Path,
    profile: ClusterProfile,
    report: Report = print,
) -> list[str]:
    """Submit `runs` (which wait for no other job: `repro sweep --preflight`'s) as one job array of sweep `name`,
    through the same submitit path as a sweep, then block until every job has ended (submitit polls SLURM's
    accounting). Returns the run ids whose job failed; each failure is reported with its log."""
    if not runs:
        return []
    target = Target(
        name, output_root, profile, Registry.load(sweep_dir(output_root, name) / "jobs.json"), configs, report
    )
    try:
        jobs = _submit_array(runs, (), target, {})
    except SUBMIT_ERRORS as exc:
        raise _submit_failed(exc, 0, target.registry) from None
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
    runs: list[PlannedRun], after: tuple[str, ...], target: Target, job_of: dict[str, str]
) -> list[submitit.Job]:
    """One sbatch: a job array of `runs`, held until the jobs `after` succeed; each job trains its planned config,
    or, packed, `target.runs_per_gpu` of them side by side. Returns the job of each run."""
    stages = sorted({r.stage for r in runs})
    executor = submitit.AutoExecutor(
        folder=target.folder / "slurm" / "%j",
        cluster="slurm",
        slurm_python=sys.executable,
        slurm_max_num_timeout=MAX_TIME_LIMIT_REQUEUES,
    )
    params = target.profile.submitit_parameters()
    params["name"] = f"{target.name}-{'-'.join(stages)}"
    if after:
        params["slurm_dependency"] = "afterok:" + ":".join(after)
        params["slurm_additional_parameters"] = {
            **params.get("slurm_additional_parameters", {}),
            "kill-on-invalid-dep": "yes",
        }
    jobs: list[submitit.Job] = []
    packs = [runs[i : i + target.runs_per_gpu] for i in range(0, len(runs), target.runs_per_gpu)]
    for chunk in array_chunks(packs, max_array_size()):  # arrays the cluster's MaxArraySize allows
        if jobs:  # after the previous chunk, so `%N` bounds the table, not each chunk
            previous = str(jobs[-1].job_id).split("_")[0]
            params["slurm_dependency"] = ",".join(
                filter(None, [params.get("slurm_dependency"), f"afterany:{previous}"])
            )
        executor.update_parameters(**params)
        with executor.batch():
            chunk_jobs = [executor.submit(_job_of(pack, target)) for pack in chunk]
        jobs += chunk_jobs
        now = time.time()
        for run, job in ((run, job) for pack, job in zip(chunk, chunk_jobs) for run in pack):
            target.registry.add(
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
        target.registry.save()  # after every sbatch: an error in the next loses nothing
    arrays = ", ".join(dict.fromkeys(str(j.job_id).split("_")[0] for j in jobs))
    packed = f", {target.runs_per_gpu} per GPU in {len(packs)} job(s)" if target.runs_per_gpu > 1 else ""
    target.report(
        f"submitted job {arrays}: {len(runs)} run(s) ({', '.join(stages)}){packed}"
        + (f", after {len(after)} job(s) they depend on succeed" if after else "")
    )
    return [job for pack, job in zip(packs, jobs) for _ in pack]


def _job_of(pack: Sequence[PlannedRun], target: Target) -> TrainJob | PackedJob:
    """What one job runs: one run's TrainJob, or a PackedJob of several."""
    one_run_jobs = [TrainJob(r.run_id, target.configs[r.run_id], str(target.output_root)) for r in pack]
    return one_run_jobs[0] if len(one_run_jobs) == 1 else PackedJob(one_run_jobs)
