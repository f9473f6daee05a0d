"""One run's label-trajectory files (repro/labels/trajectory.py): top-k reconstruction, full snapshots taking
precedence over top-k records, a damaged label file as a damaged record of its run (repro/runs/records.py), and
run directories of the earlier layout (a file per epoch) read as before."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fold_fixtures import FOLD_TRAIN, C, N, hand_labels, make_instance_fold_runs, replay_cfg
from repro.labels.trajectory import (
    instance_labels_at,
    labels_from_topk,
    recorded_epochs,
    snapshot_epochs,
    write_instance_topk,
    write_snapshot,
)
from repro.runs.records import DamagedRecord


def test_topk_reconstruction_spreads_the_remaining_mass_evenly():
    classes = np.array([[2, 0]], np.int16)
    probs = np.array([[0.6, 0.2]], np.float16)
    # remaining mass 1 - 0.8 = 0.2 over the two unrecorded classes 1 and 3
    np.testing.assert_allclose(labels_from_topk(classes, probs, 4), [[0.2, 0.1, 0.6, 0.1]], atol=1e-3)


def test_topk_reconstruction_is_exact_when_k_equals_c():
    classes = np.array([[1, 0, 2]], np.int16)
    probs = np.array([[0.5, 0.3, 0.2]], np.float16)
    np.testing.assert_allclose(labels_from_topk(classes, probs, 3), [[0.3, 0.5, 0.2]], atol=1e-3)


@pytest.mark.parametrize("per_epoch_files", [False, True], ids=["appended records", "a file per epoch"])
def test_snapshots_take_precedence_over_topk_records(tmp_path, per_epoch_files):
    cfg = replay_cfg(tmp_path)
    dirs = make_instance_fold_runs(cfg, per_epoch_files=per_epoch_files)
    exact = np.full((N, C), 1.0 / C, np.float32)
    write_snapshot(dirs[0].labels_dir, 1, exact)
    index, labels = instance_labels_at(dirs[0].path, 1)
    np.testing.assert_array_equal(index, FOLD_TRAIN[0])
    np.testing.assert_allclose(labels, exact[FOLD_TRAIN[0]], atol=1e-3)
    _, labels2 = instance_labels_at(dirs[0].path, 2)
    np.testing.assert_allclose(labels2, hand_labels(0, 2), atol=1e-3)
    layout = {p.relative_to(dirs[0].labels_dir).as_posix() for p in dirs[0].labels_dir.rglob("*.np*")}
    if per_epoch_files:
        assert {"topk/epoch_0001.npz", "topk/epoch_0002.npz", "snapshots/epoch_0001.npy"} <= layout
    else:
        assert layout == {"topk.npy", "snapshots.npy", "train_index.npy"}
        assert recorded_epochs(dirs[0]) == 2 and snapshot_epochs(dirs[0]) == [1]


def test_a_resumed_run_replaces_the_records_past_its_checkpoint(tmp_path):
    """A run resumed from its epoch-1 checkpoint records epoch 2 again: the old epoch 2 (and a snapshot of it) go."""
    rd = make_instance_fold_runs(replay_cfg(tmp_path))[0]
    write_snapshot(rd.labels_dir, 2, np.full((N, C), 1.0 / C, np.float32))
    order = np.tile(np.arange(C, dtype=np.int16), (len(FOLD_TRAIN[0]), 1))
    again = np.zeros((len(FOLD_TRAIN[0]), C), np.float16)
    again[:, 0] = 1.0
    write_instance_topk(rd.labels_dir, 2, order, again)
    write_snapshot(rd.labels_dir, 2, np.eye(C, dtype=np.float32)[np.zeros(N, int)])
    assert recorded_epochs(rd) == 2 and snapshot_epochs(rd) == [2]
    np.testing.assert_allclose(instance_labels_at(rd.path, 2)[1][:, 0], 1.0)
    np.testing.assert_allclose(instance_labels_at(rd.path, 1)[1], hand_labels(0, 1), atol=1e-3)


def _cut(path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # a copy cut short


@pytest.mark.parametrize(
    "damage",
    [
        lambda labels: _cut(labels / "topk.npy"),
        lambda labels: _cut(labels / "manifest.json"),
        lambda labels: _cut(labels / "train_index.npy"),
        lambda labels: write_snapshot(labels, 2, np.zeros((N + 1, C), np.float32)),  # of another data set size
    ],
    ids=["topk record cut short", "manifest cut short", "training index cut short", "snapshot of another shape"],
)
def test_a_damaged_label_file_says_to_train_its_run_again_with_rerun(tmp_path, damage):
    """Like every damaged record of a run: the run and the file named, the file left as it is, and the advice to
    train that run again with `repro train --rerun <the overrides it was trained with>` (its provenance.json)."""
    rd = make_instance_fold_runs(replay_cfg(tmp_path))[0]
    trained_by = ["repro", "train", "method=instance_labels", "seed=3"]
    (rd.path / "provenance.json").write_text(json.dumps({"argv": trained_by}))
    damage(rd.labels_dir)
    before = {p: p.read_bytes() for p in rd.labels_dir.rglob("*") if p.is_file()}
    with pytest.raises(DamagedRecord) as info:
        instance_labels_at(rd.path, 2)
    message = str(info.value)
    assert "`repro train --rerun method=instance_labels seed=3`" in message and rd.run_id in message
    assert str(info.value.file) in message and info.value.file in before and "fresh output_root" not in message
    assert {p: p.read_bytes() for p in rd.labels_dir.rglob("*") if p.is_file()} == before
