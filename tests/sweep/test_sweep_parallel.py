"""`--jobs N` of the local executor (repro/sweep/executors/local.py): the same runs and numbers as one job at a time,
the plan's dependency edges respected whatever made them, a failed run's dependents never started, and Ctrl-C stopping
every worker with its run resumable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from presets import TINY_SWEEP_SCALE, write_tiny_sweep
from repro.cli import main
from repro.config import load_config, to_container
from repro.errors import UserError
from repro.runs.processes import is_alive
from repro.runs.rundir import RunDir
from repro.sweep.executors.local import _critical_path, check_jobs, run_planned_runs
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.run import run_sweep
from repro.sweep.spec.model import PlannedRun
from repro.sweep.sweep_file import load_sweep
from sweep_subprocess import (
    HANG_GUARD_S,
    frozen_workers,
    planned_run_dirs,
    status_epoch,
    subprocess_env,
    sweep_command,
    two_seed_sweep,
    wait_for,
)

SCALE = TINY_SWEEP_SCALE


def _summaries(root: Path) -> dict[str, dict]:
    out = {}
    for rd in sorted((root / "runs").iterdir()):
        summary = json.loads((rd / "summary.json").read_text())
        summary.pop("seconds")  # wall-clock time, the one field that may differ
        out[rd.name] = summary
    return out


@pytest.mark.slow
@pytest.mark.e2e  # two whole sweeps, serial and parallel; the first tier keeps the scheduling and failure tests below
def test_two_jobs_train_the_same_runs_to_the_same_numbers_as_one(tmp_path):
    path = write_tiny_sweep(tmp_path)
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    one = run_sweep(path, output_root=serial, scale=SCALE, report=lambda s: None, jobs=1)
    lines: list[str] = []
    two = run_sweep(path, output_root=parallel, scale=SCALE, report=lines.append, jobs=2)
    assert two.failed == [] and two.counts() == {"done": 4} and sorted(two.submitted) == sorted(one.submitted)
    assert _summaries(parallel) == _summaries(serial)
    # the final replays its folds: it started only after both had finished
    final = next(r.run_id for r in two.unique.values() if r.stage == "final")
    folds = [r.run_id for r in two.unique.values() if r.stage == "fold"]
    started = next(i for i, line in enumerate(lines) if final in line and line.endswith(": training"))
    assert all(any(f in line and "done in" in line for line in lines[:started]) for f in folds)
    assert sum(line.endswith(": training") for line in lines) == 4
    assert sum("done in" in line for line in lines) == 4
    again = run_sweep(path, output_root=parallel, scale=SCALE, report=lines.append, jobs=2)
    assert again.submitted == [] and lines[-1] == "nothing to submit: every run is done"


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.slow
def test_a_failed_run_never_starts_its_dependents_and_they_are_reported(tmp_path, jobs):
    path = write_tiny_sweep(tmp_path)
    out = tmp_path / "out"
    runs = expand_sweep(load_sweep(path), output_root=out.resolve(), scale=SCALE)
    fold0 = next(r for r in runs if r.stage == "fold")
    final = next(r for r in runs if r.stage == "final")
    rd = RunDir(out / "runs" / fold0.run_id)
    rd.path.mkdir(parents=True)
    rd.checkpoint_file.write_bytes(b"not a checkpoint")  # train refuses it with a UserError
    lines: list[str] = []
    plan = run_sweep(path, output_root=out, scale=SCALE, report=lines.append, jobs=jobs)
    assert plan.failed == [fold0.run_id, final.run_id]
    assert any(fold0.run_id in line and "failed" in line and "cannot be read" in line for line in lines)
    assert any(final.run_id in line and "skipped, 1 of the runs it depends on did not finish" in line for line in lines)
    assert not any(final.run_id in line and line.endswith(": training") for line in lines)
    assert not RunDir(out / "runs" / final.run_id).path.exists()
    assert plan.counts() == {"done": 2, "new": 2}


def _planned(run_id: str, *depends_on: str) -> PlannedRun:
    return PlannedRun(
        run_id=run_id,
        row="r",
        column="c",
        seed=0,
        stage="x",
        fold=None,
        overrides=(),
        config={"output_root": "out"},
        depends_on=tuple(depends_on),
    )


def test_scheduling_follows_any_dependency_edge_and_skips_what_cannot_start(tmp_path, monkeypatch):
    """No stage is special: a chain tune -> teacher -> student (any edges), a run waiting on a run that is neither
    done nor planned here (e.g. queued on SLURM) is skipped, and long chains start first."""
    order: list[str] = []

    class Result:
        summary = {"final_test_acc": 0.5}

    def fake(config_file, **kw):
        run_id = Path(config_file).stem
        order.append(run_id)
        if run_id == "bad":
            raise UserError("boom")
        return Result()

    monkeypatch.setattr("repro.sweep.executors.job.run_planned", fake)
    runs = [
        _planned("plain"),
        _planned("student", "teacher", "tune"),
        _planned("teacher", "tune"),
        _planned("tune"),
        _planned("bad"),
        _planned("after-bad", "bad"),
        _planned("after-after-bad", "after-bad"),
        _planned("elsewhere", "queued-on-slurm"),
        _planned("uses-done", "old"),
    ]
    assert _critical_path(runs)["tune"] == 3 and _critical_path(runs)["plain"] == 1
    lines: list[str] = []
    configs = {r.run_id: tmp_path / f"{r.run_id}.json" for r in runs}
    ran, failed = run_planned_runs(runs, done={"old"}, jobs=1, configs=configs, report=lines.append)
    assert order.index("tune") < order.index("teacher") < order.index("student")
    assert order[0] == "tune"  # the longest chain first
    assert set(ran) == {"plain", "student", "teacher", "tune", "uses-done"}
    assert set(failed) == {"bad", "after-bad", "after-after-bad", "elsewhere"}
    assert "after-bad" not in order and "elsewhere" not in order
    assert sum("skipped" in line for line in lines) == 3


def test_of_runs_equally_urgent_the_costliest_starts_first(tmp_path, monkeypatch):
    """With the same chain waiting on each, a 30-epoch L2RW run (a look-ahead step) starts before a 2-epoch plain
    one, so that a sweep does not end on its longest run alone; a run that cannot be priced keeps its plan order."""
    order: list[str] = []

    class Result:
        summary = {"final_test_acc": 0.5}

    def fake(config_file, **kw):
        order.append(Path(config_file).stem)
        return Result()

    def priced(run_id: str, *overrides: str) -> PlannedRun:
        config = to_container(load_config(["data=digits", "model=smallcnn", *overrides]))
        return PlannedRun(run_id, "r", "c", 0, "single", None, overrides, config)

    monkeypatch.setattr("repro.sweep.executors.job.run_planned", fake)
    runs = [
        _planned("unpriced"),
        priced("short", "optim.epochs=2"),
        priced("long", "method=l2rw", "split=noisy", "optim.epochs=30"),
        priced("middle", "optim.epochs=30"),
    ]
    configs = {r.run_id: tmp_path / f"{r.run_id}.json" for r in runs}
    run_planned_runs(runs, jobs=1, configs=configs, report=lambda line: None)
    assert order == ["long", "middle", "short", "unpriced"]


def test_jobs_must_be_a_positive_number(tmp_path, capsys):
    assert check_jobs(None) == len(os.sched_getaffinity(0)) and check_jobs(3) == 3
    with pytest.raises(UserError, match="at least 1"):
        check_jobs(0)
    path = write_tiny_sweep(tmp_path)
    assert main(["sweep", str(path), "--jobs", "0", "--output-root", str(tmp_path / "out")]) == 2
    assert "--jobs 0" in capsys.readouterr().err
    assert main(["sweep", str(path), "--jobs", "2", "--executor", "slurm", "--profile", "local"]) == 2
    assert "--executor local" in capsys.readouterr().err
    assert main(["demo", "--quick", "--jobs", "-1", "--output-root", str(tmp_path / "demo")]) == 2
    assert not (tmp_path / "out").exists() and not (tmp_path / "demo" / "runs").exists()


@pytest.mark.slow
def test_ctrl_c_stops_every_worker_cleanly_and_a_rerun_resumes(tmp_path):
    """Stopped on events, not on timing: each worker is frozen (SIGSTOP) as soon as its run is past the wanted epoch
    (so neither run can finish before the other starts, however fast or loaded the machine), then the command is
    signalled and the workers let go. Ctrl-C, then the same command resumes both runs, then SIGTERM to it."""
    path = two_seed_sweep(tmp_path, "long")
    out = tmp_path / "out"
    rds = planned_run_dirs(path, out, epochs=1000)
    command, env = sweep_command(path, out, epochs=1000), subprocess_env()

    def start() -> subprocess.Popen:
        return subprocess.Popen(
            command,
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group, as a terminal's job
            # with SIGINT at its default, as in a terminal (a shell's background job ignores it)
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )

    def stopped(proc: subprocess.Popen, at_least: list[int], sig: int, group: bool) -> str:
        # each run has hundreds of epochs left: it is still running when the command's signal comes
        with frozen_workers(proc, rds, at_least, output=lambda: str(proc.communicate())) as workers:
            assert len(workers) == 2 and proc.pid not in workers  # two runs at once, each in its own worker
            (os.killpg if group else os.kill)(proc.pid, sig)
        _, stderr = proc.communicate(timeout=HANG_GUARD_S)
        for pid in workers:  # no orphan left training
            wait_for(lambda: not is_alive(pid), f"worker {pid} exiting")
        for rd in rds:
            status = rd.read_status()
            assert status["state"] == "interrupted" and status["epoch"] >= 1, status
            assert not rd.lock_file.exists() and not rd.summary_file.exists()
        return stderr

    first = start()
    stderr = stopped(first, [0, 0], signal.SIGINT, group=True)  # Ctrl-C: SIGINT to the whole process group
    assert first.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    reached = [status_epoch(rd) for rd in rds]
    second = start()  # the same command resumes both runs from their checkpoints
    stopped(second, reached, signal.SIGTERM, group=False)  # `kill`/`timeout`: SIGTERM to the command alone
    assert second.returncode == 143
    for rd, at in zip(rds, reached):
        assert f"resumed from checkpoint at epoch {at}" in rd.log_file.read_text()


@pytest.mark.slow
def test_sigterm_to_one_worker_stops_its_run_alone_and_the_others_train_on(tmp_path):
    """A SIGTERM sent to one worker (not to the command) stops that run cleanly and only it: the command reports it
    and goes on training the other run, whose epochs keep coming (the whole pool used to be stopped, and its shutdown
    could hang on a worker that exited inside the pool's result queue). Then Ctrl-C ends the command as usual."""
    path = two_seed_sweep(tmp_path, "long")
    out = tmp_path / "out"
    rds = planned_run_dirs(path, out, epochs=1000)
    proc = subprocess.Popen(
        sweep_command(path, out, epochs=1000),
        cwd=tmp_path,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        with frozen_workers(proc, rds, [0, 0], output=lambda: str(proc.communicate())) as workers:
            stopped_pid = int(json.loads(rds[0].lock_file.read_text())["pid"])
            assert len(workers) == 2 and stopped_pid in workers
            os.kill(stopped_pid, signal.SIGTERM)  # delivered when the freeze ends
        wait_for(lambda: (rds[0].read_status() or {}).get("state") == "interrupted", "the stopped run interrupted")
        at = status_epoch(rds[1])
        wait_for(lambda: status_epoch(rds[1]) >= at + 2, "the other run to train on")  # the command goes on
        assert proc.poll() is None and (rds[1].read_status() or {}).get("state") == "running"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=HANG_GUARD_S)
    assert proc.returncode == 130, stderr
    assert "its worker process alone was stopped (received SIGTERM)" in stdout, stdout
    assert rds[1].read_status()["state"] == "interrupted" and "Traceback" not in stderr
