"""What learned-label runs record: trajectory files that read back, row scalars that reach metrics.jsonl and the
summary, W&B charts/histograms/tables, and a resumed run's trajectory without gaps."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from presets import CLEAN
from repro.config import load_config, to_container
from repro.errors import UserError
from repro.labels.label_statistics import label_entropy, noise_correction_stats
from repro.labels.record_settings import RecordSettings
from repro.labels.trajectory import (
    labels_from_topk,
    read_class_trajectory,
    read_instance_topk,
    read_manifest,
    read_snapshot,
    snapshot_epochs,
)
from repro.runs.checkpoint import load_checkpoint
from repro.runs.rundir import RunDir
from repro.schema import check_node
from repro.tracking.tracker import NullTracker
from repro.train import Interrupted, train
from resume_check import EXACT, torch_flags_kept

SMALL = [*CLEAN, "optim.epochs=3"]


class FakeTracker(NullTracker):
    """Collects what a run sends to W&B."""

    def __init__(self) -> None:
        self.scalars: dict[str, list[tuple[int, float]]] = {}
        self.histograms: list[tuple[str, int]] = []
        self.tables: list[tuple[str, list[str], list[list], int]] = []

    def log(self, metrics, step=None):
        for key, value in metrics.items():
            self.scalars.setdefault(key, []).append((step, value))

    def log_histogram(self, name, values, step=None):
        self.histograms.append((name, step))

    def log_table(self, name, columns, rows, step=None):
        self.tables.append((name, columns, rows, step))


@pytest.fixture
def fake_tracker(monkeypatch):
    tracker = FakeTracker()
    monkeypatch.setattr("repro.train.make_tracker", lambda **kwargs: tracker)
    return tracker


def run(tmp_path: Path, *overrides: str):
    return train(load_config([*SMALL, f"output_root={tmp_path}", *overrides]))


# ------------------------------------------------------------------------------------------------ pure functions


def test_record_settings_defaults_and_snapshot_epochs():
    settings = RecordSettings.from_config({"snapshot_epochs": [1, -1]})
    assert [e for e in range(1, 6) if settings.takes_snapshot(e, 5)] == [1, 5]
    assert all(RecordSettings.from_config({"snapshot_epochs": "all"}).takes_snapshot(e, 5) for e in range(1, 6))
    assert not any(RecordSettings.from_config({"snapshot_epochs": "none"}).takes_snapshot(e, 5) for e in range(1, 6))
    assert RecordSettings.from_config(None) == RecordSettings()


@pytest.mark.parametrize(
    "bad",
    [{"topk": 0}, {"snapshot_epochs": [0]}, {"snapshot_epochs": "last"}, {"track_classes": -1}, {"colour": "red"}],
)
def test_bad_record_settings_are_refused(bad):
    with pytest.raises(UserError, match="method.record"):
        check_node(RecordSettings, bad, "method.record")


def test_label_entropy_by_hand():
    rows = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25], [0.5, 0.5, 0.0, 0.0]])
    torch.testing.assert_close(label_entropy(rows), torch.tensor([0.0, math.log(4), math.log(2)]))


def test_noise_correction_stats_by_hand():
    c = 7
    # rows: sample, its label's class order from most to least likely
    orders = [
        [0, 1, 2, 3, 4, 5, 6],  # noisy (given 1, true 0): top-1 is the true class -> corrected
        [2, 1, 3, 0, 4, 5, 6],  # noisy (given 2, true 3): top-1 still the given class, true class in top-5
        [4, 0, 1, 2, 3, 6, 5],  # noisy (given 4, true 5): top-1 the given class, true class last: not top-5
        [0, 6, 1, 2, 3, 4, 5],  # clean (given = true = 6): top-1 moved away -> damaged
        [1, 0, 2, 3, 4, 5, 6],  # clean (given = true = 1): intact
    ]
    weights = torch.tensor([0.4, 0.2, 0.15, 0.1, 0.08, 0.05, 0.02])
    labels = torch.zeros(len(orders), c)
    for i, order in enumerate(orders):
        labels[i, order] = weights
    given = torch.tensor([1, 2, 4, 6, 1])
    true = torch.tensor([0, 3, 5, 6, 1])
    stats = noise_correction_stats(labels, given, true, given != true)
    assert stats["noisy_top1_corrected"] == pytest.approx(1 / 3)
    assert stats["noisy_top5_corrected"] == pytest.approx(2 / 3)
    assert stats["noisy_top1_given"] == pytest.approx(2 / 3)  # samples 1 and 2
    assert stats["clean_top1_damaged"] == pytest.approx(1 / 2)
    assert stats["label_noise_top1"] == pytest.approx(3 / 5)  # samples 1, 2 and 3 have a wrong top-1
    same_entropy = float(label_entropy(weights.unsqueeze(0)))
    assert stats["noisy_label_entropy"] == pytest.approx(same_entropy)
    assert stats["clean_label_entropy"] == pytest.approx(same_entropy)
    assert stats["label_acc_top5"] == pytest.approx(4 / 5)  # all but sample 2 hold the true class in their top-5
    assert stats["uncorrected_label_entropy"] == pytest.approx(same_entropy)  # samples 1 and 2
    stats = noise_correction_stats(labels[:1], given[:1], true[:1], torch.tensor([True]))  # every noisy one corrected
    assert math.isnan(stats["uncorrected_label_entropy"])


# ------------------------------------------------------------------------------------------------ instance labels


@pytest.mark.slow
def test_instance_label_records_appear_and_read_back(tmp_path, fake_tracker):
    result = run(tmp_path, "method=instance_labels", "method.record.table_rows=7")
    rd = result.run_dir
    manifest = read_manifest(rd.path)
    num_samples = result.summary["num_train"] + result.summary["num_meta"]  # data.subset=200 keeps about 200
    assert manifest == {**manifest, "kind": "instance", "num_samples": num_samples, "num_classes": 10, "topk": 10}
    assert snapshot_epochs(rd.path) == [1, 3]  # [1, -1]: first and last
    index, classes, probs = read_instance_topk(rd.path, 2)
    assert index.dtype == np.int64 and classes.dtype == np.int16 and probs.dtype == np.float16
    assert classes.shape == probs.shape == (result.summary["num_train"], 10)
    assert np.all(np.diff(probs.astype(np.float32), axis=1) <= 1e-3)  # sorted, most likely first

    # the top-k record (k = C: exact) and the snapshot of the same epoch agree
    _, classes1, probs1 = read_instance_topk(rd.path, 1)
    snapshot1 = read_snapshot(rd.path, 1).astype(np.float32)
    np.testing.assert_allclose(labels_from_topk(classes1, probs1, 10), snapshot1[index], atol=2e-3)
    # the last snapshot holds the labels the checkpoint ends with
    logits = load_checkpoint(rd.checkpoint_file)["method"]["labels"]["logits"]  # on the CPU, whatever it trained on
    np.testing.assert_allclose(
        read_snapshot(rd.path, 3).astype(np.float32), torch.softmax(logits, 1).numpy(), atol=2e-3
    )
    # samples outside the training part (the meta set) keep their initial labels: 0.9 on the given class
    meta = np.setdiff1d(np.arange(num_samples), index)
    np.testing.assert_allclose(snapshot1[meta].max(axis=1), 0.9, atol=1e-3)

    rows = rd.read_metrics()
    assert all("label_entropy" in r and "label_change_mean" in r for r in rows)
    assert rows[0]["label_change_mean"] < rows[-1]["label_change_mean"]  # labels move away from the init
    assert "noisy_top1_corrected" not in rows[-1]  # no noise injected
    assert result.summary["final_label_entropy"] == rows[-1]["label_entropy"]

    assert [s for name, s in fake_tracker.histograms if name == "labels/entropy"] == [1, 2, 3]
    name, columns, table, step = fake_tracker.tables[-1]
    assert (name, step, len(table)) == ("labels/most_changed", 3, 7) and columns[0] == "index"
    assert sum(key.startswith("labels/instance_") for key in fake_tracker.scalars) == 6
    # every class's meta accuracy reaches the tracker, which makes each its own key (tests/tracking/test_wandb_page.py)
    assert len(fake_tracker.scalars["val_per_class_acc"][-1][1]) == 10


@pytest.mark.slow
def test_topk_smaller_than_c_is_recorded_as_asked(tmp_path):
    rd = run(tmp_path, "method=instance_labels", "method.record.topk=3", "method.record.snapshot_epochs=none").run_dir
    _, classes, probs = read_instance_topk(rd.path, 3)
    assert classes.shape[1] == 3 and snapshot_epochs(rd.path) == []


@pytest.mark.slow
def test_noise_correction_rates_reach_metrics_and_summary(tmp_path):
    result = run(
        tmp_path,
        "method=instance_labels",
        "noise=uniform",
        "noise.fraction=0.4",
        "split=noisy",
        "split.meta_fraction=0.1",
    )
    rows = result.run_dir.read_metrics()
    for key in (
        "noisy_top1_corrected",
        "noisy_top5_corrected",
        "noisy_top1_given",
        "clean_top1_damaged",
        "label_noise_top1",
        "label_acc_top5",
        "noisy_label_entropy",
        "clean_label_entropy",
    ):
        assert all(0.0 <= r[key] <= (1.0 if "entropy" not in key else math.log(10)) for r in rows), key
    last = rows[-1]
    assert last["noisy_top1_corrected"] + last["noisy_top1_given"] <= 1.0
    assert result.summary["final_noisy_top1_corrected"] == last["noisy_top1_corrected"]
    assert result.summary["final_noisy_top5_corrected"] == last["noisy_top5_corrected"]
    for key in ("label_acc_top5", "clean_label_entropy", "uncorrected_label_entropy"):  # what the ledger reads
        assert result.summary[f"final_{key}"] == last[key], key


# ------------------------------------------------------------------------------------------------ class labels


@pytest.mark.slow
def test_class_label_trajectory_reads_back_and_survives_a_resume(tmp_path, fake_tracker):
    with torch_flags_kept():
        _class_label_trajectory_reads_back_and_survives_a_resume(tmp_path, fake_tracker)


def _class_label_trajectory_reads_back_and_survives_a_resume(tmp_path, fake_tracker):
    whole = run(tmp_path / "a", "method=class_labels", *EXACT).run_dir
    traj = read_class_trajectory(whole.path)
    assert traj.shape == (3, 10) and traj.dtype == np.float32
    alpha = load_checkpoint(whole.checkpoint_file)["method"]["labels"]["alpha"]
    np.testing.assert_allclose(traj[-1], (1 - alpha).numpy(), atol=1e-6)
    rows = whole.read_metrics()
    assert [r["class_target_prob_mean"] for r in rows] == pytest.approx(traj.mean(axis=1).tolist())
    assert len(fake_tracker.scalars["labels/class_target_prob/0"]) == 3

    cfg = load_config([*SMALL, f"output_root={tmp_path / 'b'}", "method=class_labels", *EXACT])
    with pytest.raises(Interrupted):
        train(cfg, stop_after_epochs=2)
    partial = RunDir.for_config(to_container(cfg))
    assert read_class_trajectory(partial.path).shape == (2, 10)
    train(cfg)
    np.testing.assert_array_equal(read_class_trajectory(partial.path), traj)


def test_fixed_labels_record_nothing(tmp_path):
    rd = run(tmp_path, "method=label_smoothing", "optim.epochs=1").run_dir
    assert not rd.labels_dir.exists()
    with pytest.raises(UserError, match="has no label trajectory"):
        read_manifest(rd.path)
