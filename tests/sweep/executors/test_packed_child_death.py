"""A packed job's run whose process dies is failed at once, not when the job ends (repro/sweep/executors/packed.py,
`TrainJob.record_end`; repro/sweep/plan.py believes it over the job's RUNNING), and a packed job waits for
submitit's requeue signal only when SLURM's SIGTERM reached it. Here without SLURM: the packed job runs in a thread
of this process with a SLURM job id in its environment, its children are real processes; the SLURM test of the same
(tests/sweep/executors/test_sweep_slurm_packed.py) adds the cluster's queue and `repro sweep status`."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import pytest

from presets import QUIET
from repro.config import load_config, to_container
from repro.runs.io import TEMP_PATTERN
from repro.runs.rundir import RunDir
from repro.runs.rundir import run_id as compute_run_id
from repro.sweep.executors import packed
from repro.sweep.executors.job import TrainJob
from repro.sweep.executors.slurm import cluster
from repro.sweep.executors.slurm.job_states import job_states
from repro.sweep.executors.slurm.registry import JobRecord, Registry
from repro.sweep.plan import make_plan
from repro.sweep.spec.model import PlannedRun, SweepSpec
from repro.sweep.sweep_folder import sweep_dir, write_planned_configs
from sweep_subprocess import HANG_GUARD_S, status_epoch, wait_for

EPOCHS = 30  # neither run can finish while the test freezes both past epoch 2
JOB = "4242_0"  # the SLURM job the packed job believes it is


def _planned(tmp_path: Path, seeds: list[int]) -> list[PlannedRun]:
    out = tmp_path / "out"
    runs = []
    for seed in seeds:
        overrides = ["data.subset=300", "data.test_subset=100", f"optim.epochs={EPOCHS}", f"seed={seed}", *QUIET]
        config = to_container(load_config([*overrides, f"output_root={out}"]))
        runs.append(PlannedRun(compute_run_id(config), "Baseline", "Digits", seed, "single", None, (), config))
    return runs


def _spec() -> SweepSpec:
    return SweepSpec(Path("packed-death.yaml"), "packed-death", "final_test_acc", [], (), {}, {})


def test_a_run_that_failed_in_its_running_packed_job_reads_failed_and_an_older_failure_does_not(tmp_path, monkeypatch):
    out = tmp_path / "out"
    runs = _planned(tmp_path, [0, 1])
    registry = Registry(sweep_dir(out, "packed-death") / "jobs.json")
    for run in runs:
        registry.add(JobRecord(run_id=run.run_id, job_id=JOB, stage="single"))
    registry.save()
    killed, sibling = (RunDir(out / "runs" / r.run_id) for r in runs)
    killed.write_status("failed", epoch=3, message="its process was killed by SIGKILL", job=JOB)
    sibling.write_status("failed", epoch=1, message="an earlier attempt's failure", job="17_0")  # another job's
    monkeypatch.setattr(cluster, "queued_jobs", lambda: {JOB: "RUNNING"})
    plan = make_plan(_spec(), runs, out, job_states=lambda ids: job_states(out, ids))
    assert plan.status[killed.run_id].state == "failed" and "SIGKILL" in plan.status[killed.run_id].detail
    assert plan.status[sibling.run_id].state == "running"  # its job is alive: the old failure is history
    assert [r.run_id for r in plan.to_submit] == [killed.run_id]
    sibling.write_status("interrupted", epoch=2, message="its process alone was stopped by SIGTERM", job=JOB)
    plan = make_plan(_spec(), runs, out, job_states=lambda ids: job_states(out, ids))
    assert plan.status[sibling.run_id].state == "interrupted" and len(plan.to_submit) == 2


@pytest.mark.slow
def test_a_killed_child_is_failed_at_once_and_its_job_ends_with_its_last_child(tmp_path, monkeypatch):
    """Child A is SIGKILLed past epoch 2 while its sibling B is frozen: A's status says failed, with the signal and
    the job, while the job still runs; A's stale lock is gone. Then B alone gets SIGTERM: it stops cleanly and its
    status says interrupted, naming the job; the job ends at once, without waiting for a requeue signal (none can
    come: SLURM's SIGTERM never reached the job)."""
    runs = _planned(tmp_path, [0, 1])
    files = write_planned_configs(tmp_path / "sweep", runs)
    out = str(tmp_path / "out")
    job = packed.PackedJob([TrainJob(r.run_id, files[r.run_id], out) for r in runs])
    a, b = (RunDir(tmp_path / "out" / "runs" / r.run_id) for r in runs)
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.setenv("SLURM_ARRAY_JOB_ID", "4242")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "0")
    waited_for_requeue: list[bool] = []
    monkeypatch.setattr(packed, "REQUEUE_WAIT_S", 0.0)  # were it waited for, the test would not hang
    monkeypatch.setattr(packed, "wait_for_requeue", lambda: waited_for_requeue.append(True))
    ended: dict[str, object] = {}

    def run_the_job() -> None:
        try:
            ended["result"] = job()
        except RuntimeError as exc:
            ended["error"] = str(exc)

    thread = threading.Thread(target=run_the_job, daemon=True)
    thread.start()
    frozen: dict[str, int] = {}

    def freeze_each_past_two() -> bool:
        assert thread.is_alive(), ended
        for rd in (a, b):
            if rd.run_id not in frozen and status_epoch(rd) >= 2:
                frozen[rd.run_id] = int(json.loads(rd.lock_file.read_text())["pid"])
                os.kill(frozen[rd.run_id], signal.SIGSTOP)
        return len(frozen) == 2

    try:
        wait_for(freeze_each_past_two, "both children past epoch 2", poll_s=0.005)
        os.kill(frozen[a.run_id], signal.SIGKILL)
        # the status is written under A's lock, taken over from the dead child, then the lock is released: wait for
        # both, never for the one that comes first
        wait_for(
            lambda: (a.read_status() or {}).get("state") == "failed" and not a.lock_file.exists(),
            "A recorded failed (its lock released) while B is frozen",
        )
        status = a.read_status()
        assert status["job"] == JOB and "killed by SIGKILL" in status["message"] and JOB in status["message"]
        assert 2 <= status["epoch"] < EPOCHS and thread.is_alive()  # the job goes on: B is frozen, not done
        assert not a.lock_file.exists() and not list(a.path.rglob(TEMP_PATTERN))  # the stale lock taken, released
        assert "failed: its process was killed by SIGKILL" in a.log_file.read_text()
        os.kill(frozen[b.run_id], signal.SIGTERM)  # to B alone, not to the job: handled once B runs again
    finally:
        os.kill(frozen[b.run_id], signal.SIGCONT)
    thread.join(HANG_GUARD_S)
    assert not thread.is_alive() and not a.is_done() and not b.is_done()
    status = b.read_status()
    assert status["state"] == "interrupted" and status["job"] == JOB
    assert "alone was stopped by SIGTERM" in status["message"]
    assert "1 run(s) failed (" + a.run_id in ended["error"] and "1 interrupted (" + b.run_id in ended["error"]
    assert waited_for_requeue == []


def test_only_sigterm_is_a_clean_stop_of_a_child():
    assert packed.stopped_cleanly(packed.INTERRUPTED_EXIT) and packed.stopped_cleanly(-signal.SIGTERM)
    assert not any(packed.stopped_cleanly(code) for code in (0, 1, -signal.SIGKILL, -signal.SIGSEGV, -signal.SIGINT))


def test_a_sigterm_to_the_job_is_noted_and_still_reaches_the_handler_before_it():
    """Submitit's own SIGTERM handler (it logs and carries on) still runs while the packed job notes the signal."""
    seen: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        with packed.PreemptionSeen() as preemption:
            os.kill(os.getpid(), signal.SIGTERM)  # delivered before kill() returns; handled before the next line
        assert preemption.seen and seen == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGTERM) is not preemption._note  # restored
    finally:
        signal.signal(signal.SIGTERM, previous)
