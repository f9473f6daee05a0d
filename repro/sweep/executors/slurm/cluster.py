"""Ask SLURM what it knows, before anything is submitted: is it reachable, does the partition exist, which of our
jobs are queued or running (squeue), and how did the others end (sacct, when accounting is on)."""

from __future__ import annotations

import getpass
import shutil
import subprocess
from typing import Iterable

from submitit.slurm.slurm import SlurmInfoWatcher

from repro.errors import UserError

# squeue / sacct states of a job that is still going to run or is running.
ACTIVE_STATES = frozenset(
    {
        "PENDING",
        "RUNNING",
        "REQUEUED",
        "REQUEUE_FED",
        "REQUEUE_HOLD",
        "RESV_DEL_HOLD",
        "COMPLETING",
        "CONFIGURING",
        "SUSPENDED",
        "RESIZING",
        "PREEMPTED",
        "SIGNALING",
        "STAGE_OUT",
        "STOPPED",
        "SPECIAL_EXIT",
    }
)
RUNNING_STATES = frozenset({"RUNNING", "COMPLETING", "CONFIGURING", "SIGNALING", "STAGE_OUT"})
TIMEOUT_S = 60


class SlurmUnavailable(UserError):
    """SLURM's commands are missing or its controller does not answer."""


def _run(args: list[str]) -> subprocess.CompletedProcess:
    if shutil.which(args[0]) is None:
        raise SlurmUnavailable(
            f"`{args[0]}` is not on PATH, so SLURM cannot be used from this machine. Run `repro sweep` on a login "
            "node of your cluster (where sbatch, squeue and sinfo work), or use --executor local."
        )
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise SlurmUnavailable(
            f"SLURM is not reachable: `{' '.join(args)}` did not answer within {TIMEOUT_S} s; is "
            "the SLURM controller up and SLURM_CONF right? Nothing was submitted."
        ) from None


def check_partition(partition: str | None) -> None:
    """A clear error before submitting anything if SLURM is unreachable or the partition does not exist."""
    if partition is None:
        proc = _run(["sinfo", "-h", "-o", "%P"])
    else:
        proc = _run(["sinfo", "-h", "-p", partition, "-o", "%P"])
    if proc.returncode != 0:
        raise SlurmUnavailable(
            f"SLURM is not reachable: `sinfo` failed (exit {proc.returncode}): {_first_line(proc.stderr)}. "
            "Check that the controller is up and SLURM_CONF points at your cluster; nothing was submitted."
        )
    if partition is not None and not proc.stdout.strip():
        known = _run(["sinfo", "-h", "-o", "%P"]).stdout.split()
        raise UserError(
            f"The cluster has no partition {partition!r} (sinfo lists: {', '.join(known) or 'none'}). Set "
            "`partition:` in your cluster profile (slurm/profiles/*.yaml) to one of them; nothing was submitted."
        )


def queued_jobs() -> dict[str, str]:
    """{job id (array tasks as "<array>_<task>"): state} of this user's jobs that SLURM still holds (squeue)."""
    proc = _run(["squeue", "-h", "-r", "-u", getpass.getuser(), "-o", "%i|%T"])
    if proc.returncode != 0:
        raise SlurmUnavailable(
            f"SLURM is not reachable: `squeue` failed (exit {proc.returncode}): {_first_line(proc.stderr)}. "
            "Without it, queued runs cannot be told apart from lost ones, so nothing was submitted."
        )
    states = {}
    for line in proc.stdout.splitlines():
        if "|" in line:
            job_id, state = line.split("|", 1)
            states[job_id.strip()] = state.strip().split()[0]
    return states


def finished_states(job_ids: Iterable[str]) -> dict[str, str]:
    """{job id: final state} from accounting (sacct), parsed by submitit; {} when accounting is off or fails."""
    arrays = sorted({j.split("_")[0] for j in job_ids})
    if not arrays or shutil.which("sacct") is None:
        return {}
    args = ["sacct", "-X", "-o", "JobID,State,NodeList", "--parsable2"]
    for array in arrays:
        args += ["-j", array]
    try:
        proc = _run(args)
    except SlurmUnavailable:
        return {}
    if proc.returncode != 0:
        return {}
    info = SlurmInfoWatcher().read_info(proc.stdout)
    return {job_id: fields.get("State", "UNKNOWN").split()[0] for job_id, fields in info.items()}


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no error message"
