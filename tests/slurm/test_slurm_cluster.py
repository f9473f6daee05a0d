"""The throw-away one-node SLURM cluster (slurm/cluster.sh) really runs submitit jobs.

Starts the session cluster (installing SLURM/munge/MariaDB when missing: needs root and apt-get), runs a submitit
job array on partition "debug", checks accounting (sacct) sees it COMPLETED, cancels a sleeping job and checks
submitit reports it cancelled without hanging; then a second, private cluster checks start/status/stop: a second
`start` is refused, `stop` cancels running jobs and leaves no daemon alive.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import submitit

from slurm_cluster import (  # noqa: F401  (slurm_cluster is the session fixture)
    CLUSTER_SH,
    DAEMONS,
    HANG_GUARD_S,
    load_profile,
    pid_alive,
    slurm_cluster,
    start_cluster,
    stop_cluster,
    wait_until,
)

pytestmark = pytest.mark.slurm


def within(seconds: float, fn, *args):
    """fn(*args) in a thread; fail the test (instead of hanging) if it takes longer than `seconds`."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn(*args)
        except BaseException as e:  # noqa: BLE001 - re-raised in the test's thread
            box["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        pytest.fail(f"{getattr(fn, '__name__', fn)} did not return within {seconds} s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def test_cluster_is_up_and_matches_local_profile(slurm_cluster):
    assert os.environ["SLURM_CONF"] == str(slurm_cluster.conf)
    out = slurm_cluster.run("sinfo", "-h", "-N", "-o", "%N|%P|%T").stdout.split()
    # up in partition debug; other workers' tests may be running jobs on it meanwhile
    assert {f"{slurm_cluster.node}|debug*|{state}" for state in ("idle", "mixed", "allocated")} & set(out), out
    conf = slurm_cluster.conf.read_text()
    for line in (
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "JobAcctGatherType=jobacct_gather/none",
        "SelectType=select/cons_tres",
        "AccountingStorageType=accounting_storage/slurmdbd",
        "SchedulerParameters=sched_interval=2,bf_interval=2",
        "ReturnToService=2",
        "MailProg=/bin/true",
        "KillWait=5",
        f"NodeName={slurm_cluster.node} NodeAddr=127.0.0.1",
    ):
        assert line in conf, line
    dbd_conf = slurm_cluster.conf.parent / "slurmdbd.conf"
    assert stat.S_IMODE(dbd_conf.stat().st_mode) == 0o600
    # the local profile is what this cluster can run
    profile = load_profile("local")
    assert profile["partition"] == "debug" == slurm_cluster.partition
    assert not profile["gpus_per_node"]
    assert profile["cpus_per_task"] <= slurm_cluster.cpus
    assert profile["mem_gb"] * 1024 <= slurm_cluster.mem_mb
    # the GPU example has every key the local profile has
    assert set(load_profile("example-gpu")) == set(profile)


def test_submitit_array_completes_and_cancel_does_not_hang(slurm_cluster, tmp_path):
    executor = submitit.AutoExecutor(folder=tmp_path / "jobs", cluster="slurm", slurm_python=sys.executable)
    executor.update_parameters(**slurm_cluster.submitit_parameters("local", timeout_min=5, name="cluster-test"))

    # Defined here, so cloudpickle ships them by value (the job cannot import this test module).
    def square(x):
        import os
        import sys

        return x * x, sys.executable, os.environ.get("SLURM_ARRAY_TASK_ID")

    def sleep_long(seconds):
        import time

        time.sleep(seconds)
        return "not cancelled"

    t0 = time.monotonic()
    jobs = executor.map_array(square, [1, 2, 3])
    assert len(jobs) == 3
    results = within(HANG_GUARD_S, lambda: [job.result() for job in jobs])
    array_seconds = time.monotonic() - t0
    assert [r[0] for r in results] == [1, 4, 9]
    # the job ran the test's interpreter (the project venv's python when run as .venv/bin/python -m pytest)
    assert {r[1] for r in results} == {sys.executable}
    assert sorted(r[2] for r in results) == ["0", "1", "2"]

    array_id = jobs[0].job_id.split("_")[0]
    states = wait_until(
        lambda: (s := slurm_cluster.sacct_states(array_id)) and len(s) == 3 and set(s.values()) == {"COMPLETED"} and s,
        HANG_GUARD_S,
        f"sacct to show array {array_id} COMPLETED",
    )
    assert sorted(states) == [f"{array_id}_{i}" for i in range(3)]

    # a long job, cancelled while running: submitit must see CANCELLED (through sacct) and not wait forever
    executor.update_parameters(name="cluster-test-cancel")
    job = executor.submit(sleep_long, 600)
    wait_until(
        lambda: slurm_cluster.sacct_states(job.job_id).get(job.job_id) == "RUNNING", HANG_GUARD_S, "the job to run"
    )
    t1 = time.monotonic()
    job.cancel()
    within(HANG_GUARD_S, job.wait)
    assert job.done()
    assert job.state.startswith("CANCELLED"), job.state
    job._results_timeout_s = 1  # submitit waits this long for a result file that a cancelled job never writes
    with pytest.raises(submitit.core.utils.UncompletedJobError):
        within(HANG_GUARD_S, job.result)
    cancel_seconds = time.monotonic() - t1
    assert slurm_cluster.sacct_states(job.job_id)[job.job_id].startswith("CANCELLED")
    print(f"array of 3: {array_seconds:.1f} s, cancel seen by submitit: {cancel_seconds:.1f} s")


def test_start_status_stop_leaves_nothing_running(tmp_path, slurm_cluster):
    """A private cluster beside the session one (own ports, own munged): lifecycle and clean stop."""
    directory = tmp_path / "c"
    cluster = start_cluster(directory)
    try:
        pids = dict(cluster.pids)
        assert set(pids) == set(DAEMONS) and all(pid_alive(p) for p in pids.values())
        assert cluster.facts["SLURMCTLD_PORT"] != slurm_cluster.facts["SLURMCTLD_PORT"]
        munge_socket = Path(cluster.facts["MUNGE_SOCKET"])
        assert munge_socket.exists() and munge_socket != Path(slurm_cluster.facts["MUNGE_SOCKET"])

        status = subprocess.run(["bash", str(CLUSTER_SH), "status", str(directory)], capture_output=True, text=True)
        assert status.returncode == 0, status.stdout + status.stderr
        env_line = subprocess.run(
            ["bash", str(CLUSTER_SH), "env", str(directory)], capture_output=True, text=True, check=True
        ).stdout.strip()
        assert env_line == f"export SLURM_CONF={cluster.conf}"

        again = subprocess.run(["bash", str(CLUSTER_SH), "start", str(directory)], capture_output=True, text=True)
        assert again.returncode == 1 and "already running" in again.stderr, again.stderr
        assert all(pid_alive(p) for p in pids.values())  # the refused start touched nothing

        # a running job is cancelled by stop, its processes included
        marker = tmp_path / "marker"
        job_id = (
            cluster.run(
                "sbatch",
                "--parsable",
                "-p",
                "debug",
                "-o",
                str(tmp_path / "job.out"),
                "--wrap",
                f"touch {marker}; exec sleep 600",
            )
            .stdout.strip()
            .split(";")[0]
        )
        wait_until(lambda: marker.exists(), HANG_GUARD_S, f"job {job_id} to start")
        sleepers = [
            int(p.name)
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and _cmdline(p) == ["sleep", "600"] and _env_has(p, f"SLURM_JOB_ID={job_id}")
        ]
        assert sleepers, "the job's sleep process was not found"
    finally:
        t0 = time.monotonic()
        stop_cluster(cluster)
        stop_seconds = time.monotonic() - t0
    assert not [name for name, pid in pids.items() if pid_alive(pid)]
    assert not [pid for pid in sleepers if pid_alive(pid)]
    assert not munge_socket.parent.exists()
    status = subprocess.run(["bash", str(CLUSTER_SH), "status", str(directory)], capture_output=True, text=True)
    assert status.returncode == 3, status.stdout
    # the session cluster is untouched
    assert all(pid_alive(p) for p in slurm_cluster.pids.values())
    print(f"private cluster: start {cluster.facts['START_SECONDS']} s, stop {stop_seconds:.1f} s")


def _cmdline(p: Path) -> list[str]:
    try:
        return p.joinpath("cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


def _env_has(p: Path, entry: str) -> bool:
    try:
        return entry.encode() in p.joinpath("environ").read_bytes().split(b"\0")
    except OSError:
        return False
