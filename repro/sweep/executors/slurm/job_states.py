"""What the SLURM executor reports to the plan (repro/sweep/plan.py): the latest job of each run, from every sweep's
job registry in the output root (registry.py), and what SLURM says of it (cluster.py: squeue, then sacct)."""

from __future__ import annotations

from pathlib import Path
from typing import Collection

from repro.sweep.executors.slurm import cluster
from repro.sweep.executors.slurm.registry import latest_jobs
from repro.sweep.plan import JobState


def job_states(output_root: str | Path, run_ids: Collection[str], *, required: bool = False) -> dict[str, JobState]:
    """{run id: its latest job's state} for the runs of `run_ids` that have a job. SLURM is asked only when one
    has; if it cannot be asked, those runs are `unknown` (or, with `required`, SlurmUnavailable propagates)."""
    wanted = set(run_ids)
    jobs = {rid: rec for rid, rec in latest_jobs(output_root).items() if rid in wanted}
    if not jobs:
        return {}
    try:
        queued = cluster.queued_jobs()
    except cluster.SlurmUnavailable:
        if required:
            raise
        return {
            rid: JobState(rec.job_id, "unknown", f"job {rec.job_id}, SLURM unreachable", rec.stderr)
            for rid, rec in jobs.items()
        }
    finished = cluster.finished_states(j.job_id for j in jobs.values() if j.job_id not in queued)
    states = {}
    for rid, rec in jobs.items():
        state = queued.get(rec.job_id)
        if state in cluster.ACTIVE_STATES:
            running = "running" if state in cluster.RUNNING_STATES else "pending"
            states[rid] = JobState(rec.job_id, running, state, rec.stderr)
            continue
        ended = finished.get(rec.job_id)
        if ended is None:
            states[rid] = JobState(rec.job_id, "vanished", f"job {rec.job_id} vanished from SLURM", rec.stderr)
            continue
        if ended in cluster.ACTIVE_STATES:  # accounting lags behind squeue: trust squeue, which no longer has it
            ended = "ENDED"
        states[rid] = JobState(rec.job_id, "ended", f"job {ended}", rec.stderr)
    return states
