"""One run's label-trajectory files (repro/labels/trajectory.py): top-k reconstruction, and full snapshots taking
precedence over top-k records."""

from __future__ import annotations

import numpy as np

from fold_fixtures import FOLD_TRAIN, C, N, hand_labels, make_instance_fold_runs, replay_cfg
from repro.labels.trajectory import instance_labels_at, labels_from_topk, write_snapshot


def test_topk_reconstruction_spreads_the_remaining_mass_evenly():
    classes = np.array([[2, 0]], np.int16)
    probs = np.array([[0.6, 0.2]], np.float16)
    # remaining mass 1 - 0.8 = 0.2 over the two unrecorded classes 1 and 3
    np.testing.assert_allclose(labels_from_topk(classes, probs, 4), [[0.2, 0.1, 0.6, 0.1]], atol=1e-3)


def test_topk_reconstruction_is_exact_when_k_equals_c():
    classes = np.array([[1, 0, 2]], np.int16)
    probs = np.array([[0.5, 0.3, 0.2]], np.float16)
    np.testing.assert_allclose(labels_from_topk(classes, probs, 3), [[0.3, 0.5, 0.2]], atol=1e-3)


def test_snapshots_take_precedence_over_topk_records(tmp_path):
    cfg = replay_cfg(tmp_path)
    dirs = make_instance_fold_runs(cfg)
    exact = np.full((N, C), 1.0 / C, np.float32)
    write_snapshot(dirs[0].labels_dir, 1, exact)
    index, labels = instance_labels_at(dirs[0].path, 1)
    np.testing.assert_array_equal(index, FOLD_TRAIN[0])
    np.testing.assert_allclose(labels, exact[FOLD_TRAIN[0]], atol=1e-3)
    _, labels2 = instance_labels_at(dirs[0].path, 2)
    np.testing.assert_allclose(labels2, hand_labels(0, 2), atol=1e-3)
