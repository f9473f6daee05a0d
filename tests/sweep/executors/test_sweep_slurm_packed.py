"""Packed SLURM jobs (`--runs-per-gpu K`, repro/sweep/executors/packed.py) on the throw-away one-node cluster: one job
trains K runs side by side, each in its own process with its own lock; one run's failure leaves the others to finish
and a re-run submits only it; a preempted packed job is requeued and resumes each run from its checkpoint; a packed
and a plain job holding the same run have one writer. Every wait is on an event (a status file, a lock, a pending
signal, a job's sacct state); the bounds are hang guards."""

from __future__ import annotations

import json
import os
import signal
import textwrap
import time
from pathlib import Path

import pytest
import submitit

from presets import QUIET, QUIET_YAML
from repo_paths import REPO
from repro.config import load_config, to_container
from repro.runs.rundir import RunDir
from repro.runs.rundir import run_id as compute_run_id
from repro.sweep.executors.job import TrainJob
from repro.sweep.executors.packed import PackedJob
from repro.sweep.executors.slurm.registry import Registry
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.run import run_sweep
from repro.sweep.spec.model import PlannedRun, Scale
from repro.sweep.spec.sweep_file import load_sweep
from repro.sweep.status import sweep_status
from repro.sweep.sweep_folder import sweep_dir, write_planned_configs
from slurm_cluster import (  # noqa: F401  (slurm_cluster is the session fixture)
    HANG_GUARD_S,
    signal_pending,
    slurm_cluster,
    wait_until,
)

pytestmark = pytest.mark.slurm

PROFILE = REPO / "slurm" / "profiles" / "local.yaml"
EPOCHS = 30  # the preempted runs: enough that neither can finish while the test freezes both past epoch 2
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


def test_one_of_two_packed_runs_fails_the_other_finishes_and_a_rerun_submits_only_it(slurm_cluster, tmp_path):
    scale = Scale(epochs=1, subset=200, test_subset=100)
    path, rds = _sweep(tmp_path, [0, 1], scale)
    out = tmp_path / "out"
    bad = rds[1]
    bad.path.mkdir(parents=True)
    bad.checkpoint_file.write_bytes(b"not a checkpoint")  # train refuses it with a UserError, on the node
    lines: list[str] = []
    plan = run_sweep(
        path, output_root=out, executor="slurm", profile=PROFILE, scale=scale, runs_per_gpu=2, report=lines.append
    )
    assert sorted(plan.submitted) == sorted(rd.run_id for rd in rds)
    assert any("2 run(s) (single), 2 per GPU in 1 job(s)" in line for line in lines), lines
    jobs = {_registry(out).latest(rd.run_id).job_id for rd in rds}
    assert len(jobs) == 1  # one job (one array element) for the two runs
    (job,) = jobs
    wait_until(
        lambda: slurm_cluster.sacct_states(job).get(job) == "FAILED", HANG_GUARD_S, f"packed job {job} to end FAILED"
    )
    assert all(rd.is_done() for rd in rds if rd is not bad) and not bad.is_done()
    status = sweep_status(path, output_root=out, scale=scale)  # each run of the packed job, on its own
    assert {rid: s.state for rid, s in status.status.items()} == {
        rd.run_id: ("failed" if rd is bad else "done") for rd in rds
    }

    bad.checkpoint_file.unlink()  # the cause fixed: the same command submits only the run not done
    again = run_sweep(
        path, output_root=out, executor="slurm", profile=PROFILE, scale=scale, runs_per_gpu=2, report=quiet
    )
    assert again.submitted == [bad.run_id]
    assert sum(len(records) for records in _registry(out).runs.values()) == 3
    # that it trains to the end, and only it, is the local executor's test (tests/sweep/test_sweep_packed.py): the
    # statuses above are what the re-run planned from
    slurm_cluster.cancel_jobs_under(tmp_path)
    assert [_epoch_lines(rd) for rd in rds if rd is not bad] == [1]  # nothing trained twice


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

    def status(rd: RunDir) -> dict:
        return (rd.read_status() if rd.status_file.exists() else None) or {}

    frozen: dict[str, int] = {}

    def freeze_each_past_two() -> bool:
        """Both runs are watched at once, each child frozen the moment it is past its second epoch (its lock names
        it): waiting for one run first would let the other train on, and an epoch of 300 samples is milliseconds."""
        for rd in rds:
            if rd.run_id not in frozen and int(status(rd).get("epoch") or 0) >= 2:
                frozen[rd.run_id] = int(json.loads(rd.lock_file.read_text())["pid"])
                os.kill(frozen[rd.run_id], signal.SIGSTOP)
        return len(frozen) == len(rds)

    try:  # each child frozen past its second epoch: the preemption lands mid-run however fast
        wait_until(freeze_each_past_two, HANG_GUARD_S, "both runs past two epochs", interval=0.005)
        trainers = list(frozen.values())
        assert len(set(trainers)) == 2 and not any(rd.is_done() for rd in rds)  # two processes, one per run
        slurm_cluster.run("scancel", job, "--signal", "SIGTERM")
        for pid in trainers:
            wait_until(lambda pid=pid: signal_pending(pid, signal.SIGTERM), HANG_GUARD_S, "SIGTERM", interval=0.05)
    finally:
        for pid in frozen.values():
            os.kill(pid, signal.SIGCONT)
    for rd in rds:
        wait_until(lambda rd=rd: status(rd).get("state") == "interrupted", HANG_GUARD_S, "each run to stop")
        wait_until(lambda rd=rd: not rd.lock_file.exists(), HANG_GUARD_S, "each run's lock released")
    interrupted_at = [int(status(rd)["epoch"]) for rd in rds]
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
