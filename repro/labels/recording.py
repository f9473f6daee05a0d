"""Per-epoch recorders: what a learned-label run writes beyond the metrics row (label trajectories, label
entropy, noise-correction rates) and what it shows in W&B.

The training loop calls `on_epoch_end(exp, epoch, row, tracker)` after each epoch and *before* that epoch's
checkpoint, then logs `row`: scalar keys a recorder adds land in metrics.jsonl, the checkpoint's history and W&B,
and a checkpoint for epoch e+1 implies that epoch e's label records exist (a resumed run never has a gap).
`summary()` adds final values to summary.json. File formats: repro/labels/trajectory.py; choices: docs/method.md;
`method.record`: repro/labels/record_settings.py; the statistics: repro/labels/label_statistics.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from repro.errors import UserError
from repro.labels.label_statistics import label_entropy, noise_correction_stats
from repro.labels.learned import class_labels_matrix
from repro.labels.record_settings import RecordSettings
from repro.labels.registry import label_kind
from repro.labels.trajectory import (
    read_class_trajectory,
    write_class_trajectory,
    write_instance_topk,
    write_manifest,
    write_snapshot,
    write_train_index,
)
from repro.training.protocols import Recorder, When

__all__ = ["ClassTrajectoryRecorder", "InstanceTrajectoryRecorder", "LabelStatsRecorder", "build_recorders"]


# ------------------------------------------------------------------------------- what the charts follow


def spaced_classes(num_classes: int, count: int) -> list[int]:
    """`count` classes spread evenly over 0..C-1 (the same classes in every run, for comparable charts)."""
    if count <= 0:
        return []
    return sorted({int(round(x)) for x in np.linspace(0, num_classes - 1, num=min(count, num_classes))})


def pick_instances(train_idx: Tensor, noisy: Tensor, count: int) -> list[int]:
    """`count` training samples to follow (global indices): half of them noisy when there is noise. Seeded with
    its own generator, so the training RNG is untouched."""
    order = torch.randperm(len(train_idx), generator=torch.Generator().manual_seed(0))
    noisy_first = [int(i) for i in order if noisy[i]][: count // 2]
    taken = set(noisy_first)
    rest = [int(i) for i in order if int(i) not in taken][: count - len(noisy_first)]
    return [int(train_idx[i]) for i in sorted(noisy_first + rest)]


# ------------------------------------------------------------------------------------------------- recorders


class _TrainRows:
    """The run's training samples: global index, given label, true label, noise mask (all on the CPU)."""

    def __init__(self, exp: Any) -> None:
        self.index = exp.data.train_idx.cpu()
        self.given = exp.data.train_targets.cpu()[self.index]
        self.true = exp.data.train_true_targets.cpu()[self.index]
        self.noisy = exp.data.noisy_mask.cpu()[self.index]

    def labels(self, exp: Any) -> Tensor:
        """The current soft labels (n, C) of the training samples."""
        with torch.no_grad():
            return (
                exp.method.labels.soft_labels(self.index.to(exp.hardware.device), self.given.to(exp.hardware.device))
                .float()
                .cpu()
            )


class LabelStatsRecorder(Recorder):
    """Label entropy (mean -> row, histogram -> W&B) and, with
    injected noise, the noise-correction rates (row)."""

    records = "label_entropy, label_given_prob (+ noise-correction rates) per epoch; final_* in the summary"
    when = When.EVERY_EPOCH

    def __init__(self, exp: Any, settings: RecordSettings) -> None:
        self.rows = _TrainRows(exp)
        self.has_noise = bool(self.rows.noisy.any())
        self.class_names = list(exp.data.train.classes)
        self.tracked = spaced_classes(len(self.class_names), settings.track_classes)
        self.run_dir = exp.run_dir
        self._last: dict[str, float] = {}

    def on_epoch_end(self, exp: Any, epoch: int, row: dict[str, Any], tracker: Any) -> None:
        labels = self.rows.labels(exp)
        entropy = label_entropy(labels)
        stats = {
            "label_entropy": float(entropy.mean()),
            "label_given_prob": float(labels.gather(1, self.rows.given.unsqueeze(1)).mean()),
        }
        if self.has_noise:
            stats.update(noise_correction_stats(labels, self.rows.given, self.rows.true, self.rows.noisy))
        row.update(stats)
        self._last = stats
        step = epoch + 1
        tracker.log_histogram("labels/entropy", entropy.numpy(), step=step)  # per-class accuracy: the tracker's

    def summary(self) -> dict[str, Any]:
        last = self._last or _last_metrics(self.run_dir, _SUMMARY_KEYS)
        return {f"final_{k}": v for k, v in last.items() if k in _SUMMARY_KEYS}


_SUMMARY_KEYS = (
    "label_entropy",
    "noisy_top1_corrected",
    "noisy_top5_corrected",
    "clean_top1_damaged",
    "label_noise_top1",
    "label_acc_top5",
    "clean_label_entropy",
    "uncorrected_label_entropy",
)


def _last_metrics(run_dir: Any, keys: tuple[str, ...]) -> dict[str, float]:
    """A run resumed after its last epoch (crash before the summary) has no in-memory row: read it back."""
    rows = run_dir.read_metrics()
    return {k: rows[-1][k] for k in keys if rows and k in rows[-1]}


class ClassTrajectoryRecorder(Recorder):
    """Class labels: labels/class_target_prob.npy [E, C] (rewritten atomically each epoch), mean/min/max target
    probability in the row, and a line per tracked class in W&B. `kind`: the label kind the manifest names (a kind
    that records in this format, repro/labels/registry.py)."""

    records = "labels/class_target_prob.npy [E, C]; class_target_prob_mean / min / max per epoch"
    when = When.EVERY_EPOCH

    def __init__(self, exp: Any, settings: RecordSettings, kind: str = "class") -> None:
        self.kind = kind
        self.labels_dir = exp.run_dir.labels_dir
        self.class_names = list(exp.data.train.classes)
        self.tracked = spaced_classes(len(self.class_names), settings.track_classes)
        self.num_samples = len(exp.data.train_targets)
        self._rows: list[np.ndarray] | None = None
        given = _TrainRows(exp).given.numpy()
        self._class_share = np.bincount(given, minlength=len(self.class_names)) / max(len(given), 1)
        self._initial = float(exp.cfg.method.init_target_prob)
        self.run_dir = exp.run_dir
        self._change: float | None = None

    def _rows_before(self, epoch: int) -> list[np.ndarray]:
        """Rows of the epochs already done (a resumed run continues its file; a re-run epoch replaces its row)."""
        if epoch == 0:
            return []
        traj = read_class_trajectory(self.labels_dir.parent)
        if traj.shape[0] < epoch:
            raise UserError(
                f"{self.labels_dir}/class_target_prob.npy holds {traj.shape[0]} epochs but the run resumes "
                f"after epoch {epoch}; the trajectory is truncated. Train the run again in a fresh "
                "output_root."
            )
        return list(traj[:epoch])

    def on_epoch_end(self, exp: Any, epoch: int, row: dict[str, Any], tracker: Any) -> None:
        if self._rows is None:
            write_manifest(
                self.labels_dir,
                kind=self.kind,
                num_samples=self.num_samples,
                num_classes=len(self.class_names),
                topk=None,
            )
            self._rows = self._rows_before(epoch)
        target = exp.method.labels.target_probabilities().detach().float().cpu().numpy()
        self._rows = self._rows[:epoch] + [target]
        write_class_trajectory(self.labels_dir, np.stack(self._rows))
        row.update(
            class_target_prob_mean=float(target.mean()),
            class_target_prob_min=float(target.min()),
            class_target_prob_max=float(target.max()),
        )
        # total variation from the initial labels: a class label's moves by |t_c - t_c(0)| (the rest spreads evenly)
        self._change = float((np.abs(target - self._initial) * self._class_share).sum())
        row["label_change_mean"] = self._change
        tracker.log(
            {f"labels/class_target_prob/{self.class_names[c]}": float(target[c]) for c in self.tracked}, step=epoch + 1
        )

    def summary(self) -> dict[str, Any]:
        return _final_change(self.run_dir, self._change)


def _final_change(run_dir: Any, last: float | None) -> dict[str, Any]:
    """summary.json: the last epoch's mean total variation from the initial labels
    (repro/sweep/stages/tune/tune_warnings.py
    warns
    when a tuning winner's is small); read back from metrics.jsonl by a run resumed after its last epoch."""
    if last is None:
        last = _last_metrics(run_dir, ("label_change_mean",)).get("label_change_mean")
    return {} if last is None else {"final_label_change_mean": last}


class InstanceTrajectoryRecorder(Recorder):
    """Instance labels: every epoch the top-k classes and probabilities of each training sample
    (a record appended to labels/topk.npy), full (N, C) snapshots at the configured epochs, the mean change from the
    initial labels in the row, and in W&B a few tracked samples' label lines and, at the last epoch, a table of the
    most changed."""

    records = "labels/topk/epoch_XXXX.npz every epoch, labels/snapshots at method.record.snapshot_epochs"
    when = When.EVERY_EPOCH

    def __init__(self, exp: Any, settings: RecordSettings, kind: str = "instance") -> None:
        self.kind = kind
        self.settings = settings
        self.labels_dir = exp.run_dir.labels_dir
        self.rows = _TrainRows(exp)
        self.num_samples = len(exp.data.train_targets)
        self.num_classes = exp.data.num_classes
        self.k = min(settings.topk, self.num_classes)
        self.total_epochs = exp.optim.epochs
        init = float(exp.cfg.method.init_target_prob)
        self.initial = class_labels_matrix(np.full(self.num_classes, init), self.rows.given)
        self.tracked = pick_instances(self.rows.index, self.rows.noisy, settings.track_instances)
        tracked = set(self.tracked)
        self._tracked_rows = {g: i for i, g in enumerate(self.rows.index.tolist()) if g in tracked}
        self._started = False
        self.run_dir = exp.run_dir
        self._change: float | None = None

    def on_epoch_end(self, exp: Any, epoch: int, row: dict[str, Any], tracker: Any) -> None:
        if not self._started:
            write_manifest(
                self.labels_dir, kind=self.kind, num_samples=self.num_samples, num_classes=self.num_classes, topk=self.k
            )
            write_train_index(self.labels_dir, self.rows.index.numpy())
            self._started = True
        step = epoch + 1
        all_labels = exp.method.labels.probabilities().detach().float().cpu()
        labels = all_labels[self.rows.index]
        probs, classes = labels.topk(self.k, dim=1)
        write_instance_topk(self.labels_dir, step, classes.numpy(), probs.numpy())
        if self.settings.takes_snapshot(step, self.total_epochs):
            write_snapshot(self.labels_dir, step, all_labels.numpy())
        change = 0.5 * (labels - self.initial).abs().sum(dim=1)  # total variation from the initial labels
        self._change = float(change.mean())
        row["label_change_mean"] = self._change
        self._log_tracked(all_labels, tracker, step)
        if step == self.total_epochs:  # one W&B table file per run, not one per epoch (a bounded footprint)
            self._log_most_changed(labels, change, tracker, step)

    def _log_tracked(self, all_labels: Tensor, tracker: Any, step: int) -> None:
        scalars = {}
        for sample, i in self._tracked_rows.items():
            given, true = int(self.rows.given[i]), int(self.rows.true[i])
            scalars[f"labels/instance_{sample}/p_given"] = float(all_labels[sample, given])
            if given != true:
                scalars[f"labels/instance_{sample}/p_true"] = float(all_labels[sample, true])
        tracker.log(scalars, step=step)

    def _log_most_changed(self, labels: Tensor, change: Tensor, tracker: Any, step: int) -> None:
        top = change.topk(min(self.settings.table_rows, len(change))).indices
        columns = ["index", "given", "true", "top1", "top1_prob", "p_given", "change"]
        rows = [
            [
                int(self.rows.index[i]),
                int(self.rows.given[i]),
                int(self.rows.true[i]),
                int(labels[i].argmax()),
                float(labels[i].max()),
                float(labels[i, self.rows.given[i]]),
                float(change[i]),
            ]
            for i in top.tolist()
        ]
        tracker.log_table("labels/most_changed", columns, rows, step=step)

    def summary(self) -> dict[str, Any]:
        return _final_change(self.run_dir, self._change)


def build_recorders(exp: Any) -> list:
    """The recorders that apply to this run's labels, as its label kind says (learned kinds record; fixed labels do
    not)."""
    settings = RecordSettings.from_config(exp.cfg.method.get("record"))
    return label_kind(str(exp.cfg.method.get("labels"))).recorders(exp, settings)
