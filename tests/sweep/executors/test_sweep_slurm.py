"""`repro sweep` on a real (throw-away, one-node) SLURM cluster through submitit: a small sweep on the embedded digits
data (two methods, two folds, one epoch) as job arrays with afterok-held finals; re-running submits nothing;
a preempted job requeues itself and resumes from its checkpoint to the result of an uninterrupted run; two sweep
commands at once submit once; a bad partition or an unreachable controller is refused before anything is submitted.
Two SLURM jobs of one run have one writer: test_sweep_slurm_packed.py's one-writer test, a plain job waiting on a
packed job's child (both take TrainJob's lock)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from presets import QUIET_YAML
from repo_paths import REPO
from repro.config import load_config
from repro.errors import UserError
from repro.runs.rundir import RunDir
from repro.sweep.executors.slurm.registry import Registry
from repro.sweep.run import run_sweep
from repro.sweep.spec.model import Scale
from repro.sweep.status import sweep_status
from repro.sweep.sweep_folder import sweep_dir
from repro.train import train
from slurm_cluster import (  # noqa: F401  (slurm_cluster is the session fixture)
    HANG_GUARD_S,
    signal_pending,
    slurm_cluster,
    wait_until,
)

pytestmark = pytest.mark.slurm

PROFILE = REPO / "slurm" / "profiles" / "local.yaml"
SWEEP = f"""
    name: slurm-small
    metric: final_test_acc
    seeds: [0]
    common: [split=full, split.folds=2, {QUIET_YAML}, progress=plain]
    columns:
      Digits/SmallCNN: []
    rows:
      Baseline: [method=baseline]
      Ours (Class):
        learn: [method=class_labels]
"""
SCALE = Scale(epochs=1, subset=200, test_subset=100)


def write_sweep(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def quiet(_line: str) -> None:
    pass


def test_sweep_submits_arrays_waits_with_afterok_and_is_idempotent(slurm_cluster, tmp_path):
    path = write_sweep(tmp_path, SWEEP)
    out = tmp_path / "out"
    lines: list[str] = []
    t0 = time.monotonic()
    plan = run_sweep(path, output_root=out, executor="slurm", profile=PROFILE, scale=SCALE, report=lines.append)
    runs = plan.unique
    assert len(runs) == 4 and sorted(plan.submitted) == sorted(runs)
    # one sbatch (an array) for the 3 runs that wait for nothing, one for the final (it waits for its two folds)
    submissions = [line for line in lines if line.startswith("submitted job ")]
    assert len(submissions) == 2, lines
    registry = Registry.load(sweep_dir(out.resolve(), "slurm-small") / "jobs.json")
    job = {rid: registry.latest(rid) for rid in runs}
    first_array = {job[rid].job_id.split("_")[0] for rid, r in runs.items() if r.stage != "final"}
    assert len(first_array) == 1
    for rid, run in runs.items():
        if run.stage == "final":
            assert sorted(job[rid].after) == sorted(job[d].job_id for d in run.depends_on)
            detail = slurm_cluster.run("scontrol", "show", "job", job[rid].job_id.split("_")[0]).stdout
            assert "Dependency=afterok:" in detail or "JobState=COMPLETED" in detail, detail

    # re-running at once submits nothing: every run is queued, running or done
    again = run_sweep(path, output_root=out, executor="slurm", profile=PROFILE, scale=SCALE, report=quiet)
    assert again.submitted == []
    assert {again.status[rid].state for rid in runs} <= {"pending", "running", "done"}

    wait_until(lambda: all(RunDir(out / "runs" / rid).is_done() for rid in runs), HANG_GUARD_S, "every run's summary")
    elapsed = time.monotonic() - t0

    def all_completed() -> bool:  # a job ends a moment after it writes its summary
        states = {}
        for array in {j.job_id.split("_")[0] for j in job.values()}:
            states.update(slurm_cluster.sacct_states(array))
        assert not set(states.values()) - {"COMPLETED", "RUNNING", "COMPLETING"}, states
        return len(states) == 4 and set(states.values()) == {"COMPLETED"}

    wait_until(all_completed, HANG_GUARD_S, "sacct to show every job COMPLETED")
    for rid, run in runs.items():
        rd = RunDir(out / "runs" / rid)
        config = rd.read_config()
        assert config["sweep"] == {"name": "slurm-small", "stage": run.stage, "row": run.row, "column": run.column}
        assert rd.read_summary()["epochs"] == 1
    # the finals started only after their folds had finished
    for rid, run in runs.items():
        if run.stage == "final":
            start = _first_log_time(RunDir(out / "runs" / rid))
            assert all(RunDir(out / "runs" / d).summary_file.stat().st_mtime <= start + 1 for d in run.depends_on)

    third = run_sweep(path, output_root=out, executor="slurm", profile=PROFILE, scale=SCALE, report=quiet)
    assert third.submitted == [] and third.counts() == {"done": 4}
    assert sum(len(v) for v in Registry.load(registry.path).runs.values()) == 4  # no second submission of anything
    status = sweep_status(path, output_root=out)
    assert status.counts() == {"done": 4}
    print(f"4-run sweep on the local SLURM cluster: {elapsed:.0f} s from submission to the last summary")


def test_preempted_job_requeues_and_resumes_to_the_uninterrupted_result(slurm_cluster, tmp_path):
    """Preemption as SLURM does it: SIGTERM, then submitit's signal (USR2), which requeues the job. Every wait is on an
    event (the run's status file, the signal pending on the frozen job, the job's sacct state), and the run is small
    (300 samples, 8 epochs), so the test does not depend on the machine's speed; the bounds are hang guards."""
    from submitit.slurm.slurm import SlurmJobEnvironment

    path = write_sweep(tmp_path, SWEEP)
    out = tmp_path / "out"
    scale = Scale(epochs=8, subset=300, test_subset=150)
    plan = run_sweep(
        path, output_root=out, executor="slurm", profile=PROFILE, scale=scale, only={"rows": ["Baseline"]}, report=quiet
    )
    (run,) = plan.unique.values()
    record = Registry.load(sweep_dir(out.resolve(), "slurm-small") / "jobs.json").latest(run.run_id)
    rd = RunDir(out / "runs" / run.run_id)

    def status() -> dict:
        return (rd.read_status() if rd.status_file.exists() else None) or {}

    wait_until(
        lambda: int(status().get("epoch") or 0) >= 2, HANG_GUARD_S, "the job to finish two epochs", interval=0.005
    )
    trainer = int(json.loads(rd.lock_file.read_text())["pid"])  # the job's training process (one node: ours)
    os.kill(trainer, signal.SIGSTOP)  # frozen, so the preemption lands mid-run however fast the machine is
    try:
        assert not rd.is_done(), "the job finished before it could be frozen"
        slurm_cluster.run("scancel", record.job_id, "--signal", "SIGTERM")
        wait_until(
            lambda: signal_pending(trainer, signal.SIGTERM),
            HANG_GUARD_S,
            "SLURM's SIGTERM to reach the job",
            interval=0.05,
        )
    finally:
        os.kill(trainer, signal.SIGCONT)
    wait_until(lambda: status().get("state") == "interrupted", HANG_GUARD_S, "the job to stop at the SIGTERM")
    interrupted_at = int(status()["epoch"])
    assert 2 <= interrupted_at < 8
    slurm_cluster.run("scancel", record.job_id, "--signal", SlurmJobEnvironment.USR_SIG)  # submitit requeues

    wait_until(rd.is_done, HANG_GUARD_S, "the requeued job to finish")
    log = rd.log_file.read_text()
    assert "requeued by submitit" in log
    resumed = [line for line in log.splitlines() if "resumed from checkpoint at epoch" in line]
    assert len(resumed) == 1 and int(resumed[0].rsplit(" ", 1)[1]) == interrupted_at, log
    wait_until(
        lambda: slurm_cluster.sacct_states(record.job_id).get(record.job_id) == "COMPLETED",
        HANG_GUARD_S,
        f"job {record.job_id} (requeued, same id) to be COMPLETED",
    )
    # accounting keeps both attempts (sacct --duplicates): the requeue, then the completion
    history = slurm_cluster.run("sacct", "-D", "-X", "-n", "-P", "-j", record.job_id, "-o", "State").stdout.split()
    assert history[0].startswith(("REQUEUED", "PREEMPTED")) and history[-1] == "COMPLETED", history

    # the same config, uninterrupted, in this process (1 torch thread, as the job with cpus_per_task=1)
    reference = train(load_config([*run.overrides, f"output_root={tmp_path / 'reference'}", "progress=none"]))
    assert reference.run_dir.run_id == run.run_id
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in rd.read_metrics()]
    expected = [{k: v for k, v in row.items() if k != "seconds"} for row in reference.run_dir.read_metrics()]
    assert len(strip) == 8 and strip == expected
    summary = {k: v for k, v in rd.read_summary().items() if k != "seconds"}
    assert summary == {k: v for k, v in reference.summary.items() if k != "seconds"}
    print(
        f"interrupted after epoch {interrupted_at}; {resumed[0]}; final test accuracy "
        f"{summary['final_test_acc']:.4f} = uninterrupted {reference.summary['final_test_acc']:.4f}"
    )

    # nothing left to do
    again = run_sweep(
        path, output_root=out, executor="slurm", profile=PROFILE, scale=scale, only={"rows": ["Baseline"]}, report=quiet
    )
    assert again.submitted == []


def test_two_sweep_commands_at_once_submit_once(slurm_cluster, tmp_path):
    path = write_sweep(tmp_path, SWEEP)
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "repro.cli",
        "sweep",
        str(path),
        "--executor",
        "slurm",
        "--profile",
        str(PROFILE),
        "--output-root",
        str(out),
        "--epochs",
        "1",
        "--subset",
        str(SCALE.subset),
        "--test-subset",
        str(SCALE.test_subset),
        "--rows",
        "Baseline",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=HANG_GUARD_S)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    registry = Registry.load(sweep_dir(out.resolve(), "slurm-small") / "jobs.json")
    assert [len(records) for records in registry.runs.values()] == [1], registry.runs  # submitted once
    text = "\n".join(outputs)
    assert text.count("submitted job ") == 1
    assert "the other `repro sweep` submitted 1 run(s)" in text or "nothing to submit" in text, text
    slurm_cluster.cancel_jobs_under(tmp_path)  # the submission was the point: its runs need not train


def test_bad_partition_or_unreachable_slurm_submits_nothing(slurm_cluster, tmp_path, monkeypatch):
    path = write_sweep(tmp_path, SWEEP)
    bad = tmp_path / "bad.yaml"
    bad.write_text(PROFILE.read_text().replace("partition: debug", "partition: nope"))
    out = tmp_path / "out"
    with pytest.raises(UserError, match=r"no partition 'nope' \(sinfo lists: debug"):
        run_sweep(path, output_root=out, executor="slurm", profile=bad, scale=SCALE, report=quiet)
    broken_conf = tmp_path / "broken-slurm.conf"  # a missing file makes sinfo search for ~60 s; this fails at once
    broken_conf.write_text("# no ClusterName, no controller\n")
    monkeypatch.setenv("SLURM_CONF", str(broken_conf))
    with pytest.raises(UserError, match="SLURM is not reachable"):
        run_sweep(path, output_root=out, executor="slurm", profile=PROFILE, scale=SCALE, report=quiet)
    monkeypatch.setenv("SLURM_CONF", str(slurm_cluster.conf))
    # no job of this test's (other workers' tests may have jobs queued meanwhile): none runs a script under tmp_path
    assert str(tmp_path) not in slurm_cluster.run("squeue", "-h", "-o", "%o").stdout
    assert not (out / "sweeps").exists() and not (out / "runs").exists()


def _first_log_time(rd: RunDir) -> float:
    stamp = rd.log_file.read_text().splitlines()[0][:19]
    return time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S"))
