"""benchmarks/replay_truncation.py measures what the top-k record costs replay: the total-variation distance between
a run's full labels and their top-k + flat-tail float16 reconstruction (repro.labels.trajectory.labels_from_topk), here
on
a fabricated run whose labels are known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks import replay_truncation
from repro.labels.trajectory import write_instance_topk, write_manifest, write_train_index
from repro.runs.rundir import RunDir

C, N = 6, 4


def _run(tmp_path: Path, labels_by_epoch: list[np.ndarray]) -> Path:
    rd = RunDir(tmp_path / "run")
    write_manifest(rd.labels_dir, kind="instance", num_samples=N, num_classes=C, topk=C)
    write_train_index(rd.labels_dir, np.arange(N))
    for e, labels in enumerate(labels_by_epoch, start=1):
        order = np.argsort(-labels, axis=1, kind="stable")
        write_instance_topk(rd.labels_dir, e, order, np.take_along_axis(labels, order, axis=1))
    return rd.path


def test_the_truncation_cost_is_the_tails_distance_to_its_flat_mean(tmp_path):
    # powers of two: exact in float16, so the expected distances are exact too
    one = np.array([0.5, 0.25, 0.125, 0.0625, 0.0625, 0.0], np.float32)
    flat = np.array([0.375, 0.125, 0.125, 0.125, 0.125, 0.125], np.float32)
    run = _run(tmp_path, [np.tile(flat, (N, 1)), np.tile(one, (N, 1))])
    rows, move, epochs, classes, n = replay_truncation.measure(run, [1, 2, 5])
    assert (epochs, classes, n) == (2, C, N)
    by_k = {r["k"]: r for r in rows}
    # k = 1 keeps 0.5 and spreads 0.5 over five classes (0.1 each): the tail 0.25, 0.125, 0.0625, 0.0625, 0 is off
    # by 0.15 + 0.025 + 0.0375 + 0.0375 + 0.1 = 0.35, so TV = 0.175 at epoch 2 and 0 at epoch 1 (flat already)
    assert by_k[1]["max"] == pytest.approx(0.175, abs=1e-3)
    assert by_k[1]["worst_epoch_mean"] == pytest.approx(0.175, abs=1e-3)
    assert by_k[1]["mean"] == pytest.approx(0.175 / 2, abs=1e-3)
    # k = 2 keeps 0.5 and 0.25; the tail 0.125, 0.0625, 0.0625, 0 against 0.0625 each: TV = (0.0625 + 0.0625) / 2
    assert by_k[2]["max"] == pytest.approx(0.0625, abs=1e-3)
    assert by_k[5]["max"] == pytest.approx(0.0, abs=1e-6)  # k = C - 1: the one class left is its own mean
    assert [r["bytes_per_sample_epoch"] for r in rows] == [4, 8, 20]
    assert move == pytest.approx(0.5 * np.abs(one - flat).sum(), abs=1e-3)  # the labels' movement in one epoch


def test_a_run_without_the_full_labels_is_refused(tmp_path):
    rd = RunDir(tmp_path / "run")
    write_manifest(rd.labels_dir, kind="instance", num_samples=N, num_classes=C, topk=2)
    with pytest.raises(SystemExit, match="method.record.topk=6"):
        replay_truncation.measure(rd.path, [1])
