"""`--runs-per-gpu K` of the local executor (repro/sweep/executors/local.py): K runs side by side per slot, each in
its own worker with its own run lock; one run's failure leaves its siblings training; a re-run trains only what is not
done (a stopped packed job resuming each run from its checkpoint is the SLURM preemption test's, in
tests/sweep/executors/test_sweep_slurm_packed.py). On this CPU machine a slot is a share of the cores."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from presets import QUIET_YAML, TINY_SWEEP_SCALE
from repro.cli import main
from repro.runs.rundir import RunDir
from repro.sweep.executors.packed import GpuSlots
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.run import run_sweep
from repro.sweep.sweep_file import load_sweep

THREE_SEEDS = f"""
    name: packed
    metric: final_test_acc
    seeds: [0, 1, 2]
    common: [split=full, {QUIET_YAML}]
    columns:
      Digits/SmallCNN: [data=digits, model=smallcnn]
    rows:
      Baseline: [method=baseline]
"""


def _three_seeds(tmp_path: Path) -> tuple[Path, list[RunDir]]:
    path = tmp_path / "packed.yaml"
    path.write_text(textwrap.dedent(THREE_SEEDS))
    runs = expand_sweep(load_sweep(path), output_root=(tmp_path / "out").resolve(), scale=TINY_SWEEP_SCALE)
    return path, [RunDir(tmp_path / "out" / "runs" / r.run_id) for r in runs]


def _epoch_lines(rd: RunDir) -> int:
    return sum("] epoch " in line for line in rd.log_file.read_text().splitlines())


@pytest.mark.slow
def test_three_runs_side_by_side_one_fails_the_others_finish_and_a_rerun_trains_only_it(tmp_path):
    path, rds = _three_seeds(tmp_path)
    bad = rds[1]
    bad.path.mkdir(parents=True)
    bad.checkpoint_file.write_bytes(b"not a checkpoint")  # train refuses it with a UserError
    lines: list[str] = []
    plan = run_sweep(
        path, output_root=tmp_path / "out", scale=TINY_SWEEP_SCALE, report=lines.append, jobs=1, runs_per_gpu=3
    )
    assert plan.failed == [bad.run_id] and sorted(plan.submitted) == sorted(rd.run_id for rd in rds if rd is not bad)
    # one slot of three: all three started before any ended (side by side, not one after another)
    first_end = next(i for i, line in enumerate(lines) if "done in" in line or ": failed:" in line)
    assert sum(line.endswith(": training") for line in lines[:first_end]) == 3, lines
    assert all(rd.is_done() for rd in rds if rd is not bad) and not bad.is_done()
    assert all(not rd.lock_file.exists() for rd in rds)
    before = {rd.run_id: rd.summary_file.stat().st_mtime_ns for rd in rds if rd is not bad}

    bad.checkpoint_file.unlink()  # the cause fixed: the same command trains only the run not done
    again = run_sweep(path, output_root=tmp_path / "out", scale=TINY_SWEEP_SCALE, report=lines.append, runs_per_gpu=3)
    assert again.submitted == [bad.run_id] and again.failed == [] and again.counts() == {"done": 3}
    assert {rid: RunDir(bad.path.parent / rid).summary_file.stat().st_mtime_ns for rid in before} == before
    assert [_epoch_lines(rd) for rd in rds] == [1, 1, 1]  # every epoch trained once


@pytest.mark.slow
def test_a_run_held_by_another_writer_is_refused_and_its_siblings_train(tmp_path):
    """The one-writer rule holds inside a packed slot: each run takes its own lock, so a run another process is
    writing is refused (not trained twice) while the runs beside it train."""
    path, rds = _three_seeds(tmp_path)
    held = rds[0]
    held.path.mkdir(parents=True)
    lines: list[str] = []
    lock = held.hold()  # this test process is the run's writer meanwhile
    try:
        plan = run_sweep(
            path, output_root=tmp_path / "out", scale=TINY_SWEEP_SCALE, report=lines.append, jobs=1, runs_per_gpu=3
        )
        assert plan.failed == [held.run_id], lines
        assert not held.summary_file.exists() and not held.metrics_file.exists()
        assert "is held by another process" in "\n".join(lines)
    finally:
        lock.release()
    assert all(rd.is_done() for rd in rds[1:])


def test_runs_per_gpu_must_be_a_positive_number(tmp_path, capsys):
    path, _ = _three_seeds(tmp_path)
    assert main(["sweep", str(path), "--runs-per-gpu", "0", "--output-root", str(tmp_path / "out")]) == 2
    assert "--runs-per-gpu 0" in capsys.readouterr().err
    assert not (tmp_path / "out" / "runs").exists()


def test_runs_go_to_the_gpu_with_the_fewest_runs():
    """With CUDA GPUs here, the local executor places each run on the least-busy GPU (two GPUs, K=2: four runs)."""
    slots = GpuSlots()
    if not slots.count:  # no GPU on this machine: a run gets none
        assert slots.take("a") is None
    slots.count, slots.of = 2, {}  # the placement, on two GPUs whatever this machine has
    placed = [slots.take(rid) for rid in "abcd"]
    assert sorted(placed) == [0, 0, 1, 1]
    slots.release("a")
    assert slots.take("e") == placed[0]  # the GPU "a" left is the one with the fewest runs
