"""Packed SLURM jobs (`--runs-per-gpu K`, repro/sweep/executors/packed.py) on the throw-away one-node cluster: one job
trains K runs side by side, each in its own process with its own lock; a run killed by SIGKILL is failed in `repro
sweep status` while the others still train, its job leaves the queue with its last run, and a re-run
submits only it and resumes it to an unkilled run's result; a preempted packed job is requeued and resumes each run
from its checkpoint; a packed and a plain job holding the same run have one writer. Every wait is on an event (a
status file, a lock, a pending signal, a job's sacct state); the bounds are hang guards, but for NO_TIMER_WITHIN_S,
which tells an event from a timer."""

from __future__ import annotations

import json
import os
import signal
import textwrap
import time
from pathlib import Path

import pytest
import submitit
from omegaconf import OmegaConf

from presets import QUIET, QUIET_YAML
from repo_paths import REPO
from repro.config import load_config, to_container
from repro.runs.rundir import RunDir
from repro.runs.rundir import run_id as compute_run_id
from repro.sweep.executors.job import REQUEUE_WAIT_S, TrainJob
from repro.sweep.executors.packed import PackedJob
from repro.sweep.executors.slurm import cluster
from repro.sweep.executors.slurm.registry import Registry
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.run import run_sweep
from repro.sweep.spec.model import PlannedRun, Scale
from repro.sweep.status import sweep_status
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_folder import sweep_dir, write_planned_configs
from repro.train import train
from slurm_cluster import (  # noqa: F401  (slurm_cluster is the session fixture)
    HANG_GUARD_S,
    signal_pending,
    slurm_cluster,
    wait_until,
)

pytestmark = pytest.mark.slurm

PROFILE = REPO / "slurm" / "profiles" / "local.yaml"
EPOCHS = 30  # the killed and preempted runs: enough that neither can finish while the test freezes both past epoch 2
# After a packed run is killed its failure is recorded as its sibling trains on, and its job leaves the queue with its
# last live run (docs/reliability.md, "Status within seconds"). Both are events, and the tests wait for them; the one
# bound is the wait they would show if they were timers instead: the job's sleep for a requeue signal.
NO_TIMER_WITHIN_S = REQUEUE_WAIT_S
SWEEP = f"""
    name: slurm-packed
    metric: final_test_acc
    seeds: {{seeds}}
    common: [split=full, {QUIET_YAML}, progress=plain]
    columns:
      Digits/SmallCNN: [data=digits, model=smallcnn]
    rows:
      Baseline: [method=baseline]
"""


def quiet(_line: str) -> None:
    pass


def _sweep(tmp_path: Path, seeds: list[int], scale: Scale) -> tuple[Path, list[RunDir]]:
    path = tmp_path / "packed.yaml"
    path.write_text(textwrap.dedent(SWEEP.format(seeds=seeds)))
    runs = expand_sweep(load_sweep(path), output_root=(tmp_path / "out").resolve(), scale=scale)
    return path, [RunDir(tmp_path / "out" / "runs" / r.run_id) for r in runs]


def _epoch_lines(rd: RunDir) -> int:
    return sum("] epoch " in line for line in rd.log_file.read_text().splitlines())


def _registry(out: Path) -> Registry:
    return Registry.load(sweep_dir(out.resolve(), "slurm-packed") / "jobs.json")


def test_a_killed_packed_run_is_failed_at_once_its_job_ends_with_its_last_run_and_a_rerun_resumes_only_it(
    slurm_cluster, tmp_path
):
    """Run A of a packed job is SIGKILLed past epoch 2 while its sibling B is frozen: `repro sweep status` says A
    failed (the signal named) while B is still frozen and the job runs; once B is let go and done, the job leaves the
    queue without waiting for a requeue signal that cannot come and ends FAILED; the same command then submits
    A alone, which resumes from its checkpoint to the final metrics of a run never killed."""
    scale = Scale(epochs=EPOCHS, subset=300, test_subset=150)
    path, rds = _sweep(tmp_path, [0, 1], scale)
    out = tmp_path / "out"
    lines: list[str] = []
    plan = run_sweep(
        path, output_root=out, executor="slurm", profile=PROFILE, scale=scale, runs_per_gpu=2, report=lines.append
    )
    assert sorted(plan.submitted) == sorted(rd.run_id for rd in rds)
    assert any("2 run(s) (single), 2 per GPU in 1 job(s)" in line for line in lines), lines
    (job,) = {_registry(out).latest(rd.run_id).job_id for rd in rds}  # one job (one array element), two runs
    a, b = rds
    frozen = _freeze_each_past_two(rds)
    try:
        os.kill(frozen[a.run_id], signal.SIGKILL)
        killed = time.monotonic()
        states = wait_until(
            lambda: _states_if(path, out, scale, lambda st: st[a.run_id].state == "failed"),
            NO_TIMER_WITHIN_S,
            "status to call the killed run failed",
            interval=0.2,
        )
        assert "killed by SIGKILL" in states[a.run_id].detail and states[b.run_id].state == "running"
        assert time.monotonic() - killed <= NO_TIMER_WITHIN_S
        # the failed status is written under A's lock, taken over from the dead child, then the lock is released
        wait_until(lambda: not a.lock_file.exists(), HANG_GUARD_S, "the killed run's lock released", interval=0.05)
    finally:
        os.kill(frozen[b.run_id], signal.SIGCONT)
    wait_until(b.is_done, HANG_GUARD_S, "the sibling to finish")
    last_run_ended = time.monotonic()
    wait_until(lambda: job not in cluster.queued_jobs(), NO_TIMER_WITHIN_S, "the job to leave the queue", interval=0.2)
    assert time.monotonic() - last_run_ended <= NO_TIMER_WITHIN_S
    wait_until(
        lambda: slurm_cluster.sacct_states(job).get(job) == "FAILED", HANG_GUARD_S, f"packed job {job} to end FAILED"
    )
    status = sweep_status(path, output_root=out, scale=scale)
    assert {rid: s.state for rid, s in status.status.items()} == {a.run_id: "failed", b.run_id: "done"}

    again = run_sweep(
        path, output_root=out, executor="slurm", profile=PROFILE, scale=scale, runs_per_gpu=2, report=quiet
    )
    assert again.submitted == [a.run_id]
    assert sum(len(records) for records in _registry(out).runs.values()) == 3
    wait_until(a.is_done, HANG_GUARD_S, "the resubmitted run to finish")
    resumed = [line for line in a.log_file.read_text().splitlines() if "resumed from checkpoint at epoch" in line]
    assert len(resumed) == 1 and int(resumed[0].rsplit(" ", 1)[1]) >= 2
    assert [row["epoch"] for row in a.read_metrics()] == list(range(1, EPOCHS + 1))  # each epoch once
    reference = _train_unkilled(a, tmp_path / "reference")  # the same config, never killed, one thread as the jobs
    assert a.read_summary()["final_test_acc"] == reference.read_summary()["final_test_acc"]
    assert _without_seconds(a.read_metrics()) == _without_seconds(reference.read_metrics())


def _freeze_each_past_two(rds: list[RunDir]) -> dict[str, int]:
    """Each run's process frozen (SIGSTOP) the moment its status is past epoch 2: {run id: pid}. Both are watched at
    once: waiting for one run first would let the other train on, and an epoch of 300 samples is milliseconds."""
    frozen: dict[str, int] = {}

    def freeze() -> bool:
        for rd in rds:
            if rd.run_id not in frozen and int(_status(rd).get("epoch") or 0) >= 2:
                frozen[rd.run_id] = int(json.loads(rd.lock_file.read_text())["pid"])
                os.kill(frozen[rd.run_id], signal.SIGSTOP)
        return len(frozen) == len(rds)

    try:
        wait_until(freeze, HANG_GUARD_S, "every run past two epochs", interval=0.005)
    except BaseException:
        for pid in frozen.values():
            os.kill(pid, signal.SIGCONT)
        raise
    assert len(set(frozen.values())) == len(rds) and not any(rd.is_done() for rd in rds)  # a process per run
    return frozen


def _status(rd: RunDir) -> dict:
    return (rd.read_status() if rd.status_file.exists() else None) or {}


def _states_if(path: Path, out: Path, scale: Scale, wanted) -> dict | None:
    """The run states `repro sweep status` computes, when `wanted(states)` holds."""
    states = sweep_status(path, output_root=out, scale=scale).status
    return states if wanted(states) else None


def _train_unkilled(rd: RunDir, output_root: Path) -> RunDir:
    config = {**rd.read_config(), "output_root": str(output_root)}
    return train(OmegaConf.create(config)).run_dir


def _without_seconds(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def test_a_preempted_packed_job_requeues_and_resumes_each_run(slurm_cluster, tmp_path):
    """SLURM's preemption: SIGTERM to every process of the job (each run's child stops cleanly), then submitit's
    USR2 to the packed job, which requeues it; each run resumes from its own checkpoint."""
    from submitit.slurm.slurm import SlurmJobEnvironment

    scale = Scale(epochs=EPOCHS, subset=300, test_subset=150)
    path, rds = _sweep(tmp_path, [0, 1], scale)
    out = tmp_path / "out"
    run_sweep(path, output_root=out, executor="slurm", profile=PROFILE, scale=scale, runs_per_gpu=2, report=quiet)
    job = _registry(out).latest(rds[0].run_id).job_id
    assert _registry(out).latest(rds[1].run_id).job_id == job

    frozen = _freeze_each_past_two(rds)  # the preemption lands mid-run however fast
    try:
        trainers = list(frozen.values())
        slurm_cluster.run("scancel", job, "--signal", "SIGTERM")
        for pid in trainers:
            wait_until(lambda pid=pid: signal_pending(pid, signal.SIGTERM), HANG_GUARD_S, "SIGTERM", interval=0.05)
    finally:
        for pid in frozen.values():
            os.kill(pid, signal.SIGCONT)
    for rd in rds:
        wait_until(lambda rd=rd: _status(rd).get("state") == "interrupted", HANG_GUARD_S, "each run to stop")
        wait_until(lambda rd=rd: not rd.lock_file.exists(), HANG_GUARD_S, "each run's lock released")
    interrupted_at = [int(_status(rd)["epoch"]) for rd in rds]
    assert all(2 <= at < EPOCHS for at in interrupted_at)
    slurm_cluster.run("scancel", job, "--signal", SlurmJobEnvironment.USR_SIG)  # submitit requeues the packed job

    for rd in rds:
        wait_until(rd.is_done, HANG_GUARD_S, "the requeued job to finish each run")
    for rd, at in zip(rds, interrupted_at):
        log = rd.log_file.read_text()
        assert "requeued by submitit" in log
        resumed = [line for line in log.splitlines() if "resumed from checkpoint at epoch" in line]
        assert len(resumed) == 1 and int(resumed[0].rsplit(" ", 1)[1]) == at, log
        assert rd.read_summary()["epochs"] == EPOCHS and len(rd.read_metrics()) == EPOCHS
    wait_until(
        lambda: slurm_cluster.sacct_states(job).get(job) == "COMPLETED", HANG_GUARD_S, f"job {job} to be COMPLETED"
    )
    again = run_sweep(
        path, output_root=out, executor="slurm", profile=PROFILE, scale=scale, runs_per_gpu=2, report=quiet
    )
    assert again.submitted == []


def test_a_packed_job_and_a_plain_job_of_the_same_run_have_one_writer(slurm_cluster, tmp_path):
    """Run A packed with B in one job and submitted alone in another, at once (a user's double submission, or a
    requeue racing the old job): the second job waits on A's lock, naming the first job, then finds A done; every
    epoch of A is written once. A plain job and a packed job's child take the same lock (TrainJob), so this one test
    holds for both kinds; that the waiting run's siblings in a packed slot train meanwhile is the local executor's
    test (tests/sweep/test_sweep_packed.py)."""
    out = tmp_path / "out"
    configs, ids = [], []
    for seed in (0, 1):
        overrides = ["data.subset=200", "data.test_subset=100", "optim.epochs=3", f"seed={seed}", *QUIET]
        config = to_container(load_config([*overrides, "progress=plain", f"output_root={out}"]))
        configs.append(config)
        ids.append(compute_run_id(config))
    planned = [PlannedRun(rid, "r", "c", s, "single", None, (), cfg) for s, (rid, cfg) in enumerate(zip(ids, configs))]
    files = write_planned_configs(tmp_path / "sweep", planned)
    one_run = [TrainJob(rid, files[rid], str(out)) for rid in ids]
    executor = submitit.AutoExecutor(folder=tmp_path / "jobs" / "%j", cluster="slurm")
    executor.update_parameters(**slurm_cluster.submitit_parameters())
    first = executor.submit(PackedJob([one_run[0], one_run[1]]))
    a = RunDir(out / "runs" / ids[0])
    wait_until(a.lock_file.exists, HANG_GUARD_S, "the first job to take run A", interval=0.05)
    holder = json.loads(a.lock_file.read_text())
    os.kill(holder["pid"], signal.SIGSTOP)  # A's writer frozen (one node: its pid is ours to signal) meanwhile
    try:
        second = executor.submit(one_run[0])
        err = Path(second.paths.stderr)
        wait_until(
            lambda: err.exists() and "waiting for it to finish" in err.read_text(),
            HANG_GUARD_S,
            "the second job to wait for the first",
        )
        assert f"pid {holder['pid']}" in err.read_text() and f"SLURM job {first.job_id}" in err.read_text()
    finally:
        os.kill(holder["pid"], signal.SIGCONT)
    assert first.result()["exit_codes"] == {ids[0]: 0, ids[1]: 0}
    assert second.result()["already_done"] is True
    assert all(RunDir(out / "runs" / rid).is_done() for rid in ids)
    assert _epoch_lines(a) == 3 and not a.lock_file.exists()  # every epoch of A written once, by one writer


def test_a_packed_final_waits_for_the_packed_job_of_its_folds(slurm_cluster, tmp_path):
    """Dependencies hold per run: the two folds share one packed job (they wait for nothing); the final waits
    (afterok) for that job, and starts only after both folds have written their summaries."""
    scale = Scale(epochs=1, subset=200, test_subset=100)
    path = tmp_path / "folds.yaml"
    path.write_text(
        textwrap.dedent(
            SWEEP.format(seeds=[0])
            .replace("common: [split=full,", "common: [split=full, split.folds=2,")
            .replace(
                "      Baseline: [method=baseline]\n",
                "      Ours (Class):\n        learn: [method=class_labels]\n",
            )
        )
    )
    out = tmp_path / "out"
    plan = run_sweep(
        path, output_root=out, executor="slurm", profile=PROFILE, scale=scale, runs_per_gpu=2, report=quiet
    )
    runs = plan.unique
    final = next(r for r in runs.values() if r.stage == "final")
    first = {_registry(out).latest(rid).job_id for rid, r in runs.items() if r.stage != "final"}
    assert len(first) == 1 and len(runs) == 3  # both folds: one packed job
    assert _registry(out).latest(final.run_id).after == tuple(first)
    rds = {rid: RunDir(out / "runs" / rid) for rid in runs}
    wait_until(lambda: all(rd.is_done() for rd in rds.values()), HANG_GUARD_S, "every run's summary")
    stamp = rds[final.run_id].log_file.read_text().splitlines()[0][:19]  # the run's first log line: its start
    started = time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S"))
    assert all(rds[d].summary_file.stat().st_mtime <= started + 1 for d in final.depends_on)  # stamps: to the second
