"""The quantities a recorded claim reads from runs (paper_tables/claims.csv, kind `recorded`, column `measure`): each
measure says which of a cell's runs it reads (the reported runs, or the fold runs that learn the labels), how one run
gives its value, in which units, how it is judged (an effect on one side of 0, or a level against the paper's number)
and below what spread it cannot resolve.

- noise_removed_top1: points of the whole training set: the injected noise fraction minus the share of samples
  whose learned label's top-1 is wrong at the end (summary `final_label_noise_top1`): the paper's 40% -> 33%.
- label_acc_top5: the share of all training samples whose label's top-5 holds the true class at the end (summary
  `final_label_acc_top5`), in percent, against Figure 4's 90%.
- uncorrected_entropy_gap: nats, the clean samples' mean label entropy minus that of the noisy samples whose top-1
  is still wrong (summary `final_clean_label_entropy`, `final_uncorrected_label_entropy`): above 0 when the
  uncorrected labels are the more confident ones, which is what an entropy-weighted curriculum can use.
- class_smoothing_fall: class labels, points of probability: the mean smoothing (1 - target probability, averaged
  over classes) over the first half of training minus its value at the last epoch (labels/class_target_prob.npy of
  each fold run, averaged over a seed's folds): above 0 when the smoothing is higher early and falls.
- smoothing_tracks_meta_accuracy: class labels: at each epoch, the correlation across classes of the target
  probability with the class's meta-set (validation) accuracy (metrics.jsonl `val_per_class_acc`), averaged over
  epochs and a seed's folds: above 0 when the classes the network gets wrong are smoothed more.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from analysis.cells import REPORTED_STAGES
from analysis.sweeps import SweepIndex
from repro.claims.verdicts import DIRECTIONAL, LEVEL, Judge
from repro.data.sizes import run_sizes
from repro.errors import UserError
from repro.labels.trajectory import read_class_trajectory
from repro.runs.rundir import RunDir

FOLD_STAGES = ("fold",)


@dataclass(frozen=True)
class Measure:
    name: str
    unit: str
    judge: Judge
    stages: tuple[str, ...]  # which of a cell's planned runs it reads
    read: Callable[[dict[str, Any], Any], float | None]  # (frame record, planned run) -> the run's value
    resolution: Callable[[Any], float]  # planned config -> the smallest spread it resolves

    def per_seed(self, index: SweepIndex, row: str, column: str) -> dict:
        """{seed: value} over the cell's finished runs of its stages in the sweep's results index (a seed's several
        fold runs averaged), and the run ids read."""
        values: dict[Any, list[float]] = {}
        ids: list[str] = []
        for found in index.cell_runs(rows=[row], columns=[column], stages=self.stages):
            if not found.done:
                continue
            value = self.read(found.run, found.planned)
            if value is not None and math.isfinite(value):
                values.setdefault(found.planned.seed, []).append(value)
                ids.append(found.planned.run_id)
        return {"values": {seed: statistics.fmean(v) for seed, v in values.items()}, "runs": tuple(ids)}


def _field(record: dict[str, Any], key: str) -> float | None:
    value = record.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _noise_removed(record: dict[str, Any], planned: Any) -> float | None:
    wrong = _field(record, "final_label_noise_top1")
    fraction = (planned.config.get("noise") or {}).get("fraction")
    return None if wrong is None or fraction is None else 100.0 * (float(fraction) - wrong)


def _top5(record: dict[str, Any], planned: Any) -> float | None:
    value = _field(record, "final_label_acc_top5")
    return None if value is None else 100.0 * value


def _entropy_gap(record: dict[str, Any], planned: Any) -> float | None:
    clean, uncorrected = _field(record, "final_clean_label_entropy"), _field(record, "final_uncorrected_label_entropy")
    return None if clean is None or uncorrected is None else clean - uncorrected


def _trajectory(record: dict[str, Any]) -> np.ndarray:
    try:
        return read_class_trajectory(record["path"])
    except (UserError, OSError, KeyError, ValueError):
        return np.empty((0, 0))


def _smoothing_fall(record: dict[str, Any], planned: Any) -> float | None:
    target = _trajectory(record)
    if target.shape[0] < 2:
        return None
    smoothing = 1.0 - target.mean(axis=1)
    return 100.0 * (float(smoothing[: max(1, len(smoothing) // 2)].mean()) - float(smoothing[-1]))


def _tracks_meta_accuracy(record: dict[str, Any], planned: Any) -> float | None:
    target = _trajectory(record)
    try:
        rows = RunDir(Path(record["path"])).read_metrics()
    except (UserError, OSError, KeyError, ValueError):
        return None
    accuracy = [r.get("val_per_class_acc") for r in rows]
    found = []
    for epoch in range(min(len(accuracy), target.shape[0])):
        acc = np.asarray(accuracy[epoch] or [], dtype=float)
        prob = target[epoch]
        if acc.shape == prob.shape and acc.std() > 0 and prob.std() > 0:
            found.append(float(np.corrcoef(prob, acc)[0, 1]))
    return statistics.fmean(found) if found else None


def _one_train_sample(config: Any) -> float:
    try:
        return 100.0 / max(run_sizes(config)[0], 1)
    except (UserError, KeyError, TypeError):
        return 0.0


def _fixed(value: float) -> Callable[[Any], float]:
    return lambda config: value


MEASURES = {
    m.name: m
    for m in (
        Measure("noise_removed_top1", "points", DIRECTIONAL, REPORTED_STAGES, _noise_removed, _one_train_sample),
        Measure("label_acc_top5", "%", LEVEL, REPORTED_STAGES, _top5, _one_train_sample),
        Measure("uncorrected_entropy_gap", "nats", DIRECTIONAL, REPORTED_STAGES, _entropy_gap, _fixed(1e-3)),
        Measure("class_smoothing_fall", "points", DIRECTIONAL, FOLD_STAGES, _smoothing_fall, _fixed(0.01)),
        Measure("smoothing_tracks_meta_accuracy", "r", DIRECTIONAL, FOLD_STAGES, _tracks_meta_accuracy, _fixed(1e-3)),
    )
}


def measure(name: str, where: str) -> Measure:
    if name not in MEASURES:
        raise UserError(f"{where}: measure {name!r} is not one of {', '.join(MEASURES)} (analysis/ledger/measures.py).")
    return MEASURES[name]
