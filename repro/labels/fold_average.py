"""The fold-averaged label trajectory of the 5-fold protocol (Sec. 3.1, docs/method.md): averaged, cached, replayed.

Why this module: the final (method=replay) run trains on the average of its fold runs' label trajectories, epoch by
epoch. This module computes that average (each sample over the folds that trained it), stores it once per set of
fold runs and serves it to the replay run (`replay_source`) and to students of a replay run (repro/runs/teachers.py).
One run's files are repro/labels/trajectory.py; which fold runs a replay run reads is repro/labels/fold_runs.py.

An averaged trajectory lives in `<output_root>/trajectories/<hash of fold run ids>/`: `manifest.json` (written last:
its presence means complete) plus the file its label kind writes (repro/labels/kinds.py: `labels.npy` float16
[E, N, C] for instance labels, `class_target_prob.npy` float32 [E, C] for class labels).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
from omegaconf import DictConfig

from repro.errors import UserError
from repro.labels.fold_runs import finished_fold_runs
from repro.labels.registry import label_kind
from repro.labels.trajectory import FORMAT_VERSION, READ_ERRORS, read_manifest, recorded_epochs
from repro.runs.io import atomic_write_json, read_json
from repro.runs.records import read_config, reading
from repro.runs.rundir import RunDir

# ------------------------------------------------------------------------------------------------ averaging


def average_instance_labels(parts: Sequence[tuple[np.ndarray, np.ndarray]], num_samples: int) -> np.ndarray:
    """Average each sample's labels over the folds that trained on it: `parts` holds one (global index [n_f],
    labels [n_f, C]) per fold; returns float32 [num_samples, C]. Every sample must be trained by some fold."""
    if not parts:
        raise UserError("Fold averaging needs at least one fold's labels.")
    num_classes = parts[0][1].shape[1]
    total = np.zeros((num_samples, num_classes), np.float64)
    count = np.zeros(num_samples, np.int64)
    for index, labels in parts:
        if labels.shape != (len(index), num_classes) or (len(index) and int(index.max()) >= num_samples):
            raise UserError(
                f"A fold's labels {labels.shape} do not fit {num_samples} samples x {num_classes} "
                "classes; the fold runs belong to different data sets."
            )
        np.add.at(total, index, labels)
        np.add.at(count, index, 1)
    if (count == 0).any():
        missing = np.flatnonzero(count == 0)
        raise UserError(
            f"{len(missing)} training samples (e.g. index {missing[:5].tolist()}) were trained by no "
            "fold, so they have no learned labels to average. The folds' meta sets must not cover every "
            "sample: use split.folds >= 2 (the paper: 5 folds of 20%)."
        )
    return (total / count[:, None]).astype(np.float32)


def average_class_trajectories(trajectories: Sequence[np.ndarray]) -> np.ndarray:
    """Mean of the folds' [E, C] class-label trajectories (every fold trains every class)."""
    shapes = {t.shape for t in trajectories}
    if len(shapes) != 1:
        raise UserError(
            f"The fold runs' class-label trajectories have different shapes {sorted(shapes)}; they must "
            "come from runs with the same data set and number of epochs."
        )
    return np.mean(np.stack(trajectories), axis=0, dtype=np.float64).astype(np.float32)


# ------------------------------------------------------------------------------------ the averaged trajectory


@dataclass(frozen=True)
class AveragedTrajectory:
    """A fold-averaged trajectory on disk; `labels(e, targets)` gives epoch e's (0-based) (N, C) labels."""

    path: Path
    kind: str
    num_epochs: int
    num_samples: int
    num_classes: int
    fold_runs: tuple[str, ...]

    @classmethod
    def open(cls, path: Path) -> AveragedTrajectory:
        manifest_path = path / "manifest.json"
        if not manifest_path.exists():
            raise UserError(
                f"{path} is not a complete averaged trajectory (no manifest.json); build it with "
                "`repro labels average <the replay run's overrides>`."
            )
        m = read_json(manifest_path)
        traj = cls(
            path, m["kind"], int(m["num_epochs"]), int(m["num_samples"]), int(m["num_classes"]), tuple(m["fold_runs"])
        )
        expected = label_kind(traj.kind).averaged_shape(traj.num_epochs, traj.num_samples, traj.num_classes)
        shape = traj._array().shape
        if shape != expected:
            raise UserError(
                f"The averaged trajectory {traj._file} has shape {shape}, its manifest says {expected}; "
                f"it is corrupt. Delete {path} and run again to rebuild it from the fold runs."
            )
        return traj

    @property
    def _file(self) -> Path:
        return self.path / label_kind(self.kind).averaged_file()

    def _array(self) -> np.ndarray:
        try:
            return np.load(self._file, mmap_mode="r", allow_pickle=False)
        except READ_ERRORS as exc:
            raise UserError(
                f"The averaged trajectory {self._file} cannot be read ({exc}); it is truncated or "
                f"corrupt. Delete {self.path} and run again to rebuild it from the fold runs."
            ) from None

    def labels(self, epoch: int, targets: torch.Tensor) -> torch.Tensor:
        """Epoch `epoch`'s (0-based) labels (N, C) float32; `targets` (the given labels) expand class labels."""
        return label_kind(self.kind).averaged_labels(np.array(self._array()[epoch], dtype=np.float32), targets)


def trajectory_cache_dir(output_root: str | Path, fold_run_ids: Sequence[str]) -> Path:
    digest = hashlib.sha256(json.dumps([FORMAT_VERSION, list(fold_run_ids)]).encode()).hexdigest()[:12]
    return Path(output_root) / "trajectories" / digest


def _fold_epochs(rd: RunDir) -> int:
    config = read_config(rd, role="fold run")
    with reading(rd, rd.config_file, role="fold run"):
        return int(config["optim"]["epochs"])


def build_averaged_trajectory(fold_dirs: Sequence[RunDir], target: Path) -> AveragedTrajectory:
    """Average the fold runs' recorded trajectories into `target` (atomically; manifest last)."""
    manifests = [read_manifest(rd) for rd in fold_dirs]
    keys = {(m["kind"], m["num_samples"], m["num_classes"]) for m in manifests}
    if len(keys) != 1:
        raise UserError(
            f"The fold runs recorded different kinds or sizes of labels ({sorted(keys)}); they must all "
            "come from the same data set and label method."
        )
    kind, num_samples, num_classes = next(iter(keys))
    epochs = {_fold_epochs(rd) for rd in fold_dirs}
    if len(epochs) != 1:
        raise UserError(
            f"The fold runs trained for different numbers of epochs ({sorted(epochs)}); the folds must "
            "share optim.epochs."
        )
    num_epochs = epochs.pop()
    for rd in fold_dirs:
        have = recorded_epochs(rd)
        if have != num_epochs:
            raise UserError(
                f"The fold run {rd.path} trained {num_epochs} epochs but its label trajectory holds "
                f"{have}; it is truncated. Nothing was changed; re-train that fold in a fresh output_root."
            )
    label_kind(kind).write_average(
        fold_dirs, target, num_epochs=num_epochs, num_samples=num_samples, num_classes=num_classes
    )
    atomic_write_json(
        target / "manifest.json",
        {
            "kind": kind,
            "num_epochs": num_epochs,
            "num_samples": num_samples,
            "num_classes": num_classes,
            "fold_runs": [rd.run_id for rd in fold_dirs],
            "fold_dirs": [str(rd.path) for rd in fold_dirs],
            "version": FORMAT_VERSION,
        },
    )
    return AveragedTrajectory.open(target)


def averaged_trajectory(config: Mapping[str, Any] | DictConfig) -> AveragedTrajectory:
    """The fold-averaged trajectory of a replay run's fold runs: reused from the cache, or built into it."""
    fold_dirs = finished_fold_runs(config)
    output_root = config["output_root"]
    target = trajectory_cache_dir(output_root, [rd.run_id for rd in fold_dirs])
    if (target / "manifest.json").exists():
        traj = AveragedTrajectory.open(target)
        if list(traj.fold_runs) != [rd.run_id for rd in fold_dirs]:
            raise UserError(
                f"The cached trajectory {target} was built from other fold runs ({list(traj.fold_runs)}); "
                "move it aside and run again."
            )
        return traj
    return build_averaged_trajectory(fold_dirs, target)


# ---------------------------------------------------------------------------------------- the replay run's source


def replay_source(cfg: DictConfig, data: Any) -> dict:
    """ReplayLabels options (trajectory, num_epochs, static) for a method=replay run (repro.training.experiment)."""
    traj = averaged_trajectory(cfg)
    num_samples, num_classes = len(data.train_targets), int(data.num_classes)
    if traj.num_samples != num_samples or traj.num_classes != num_classes:
        raise UserError(
            f"The averaged trajectory {traj.path} holds labels for {traj.num_samples} samples x "
            f"{traj.num_classes} classes, but this run's data has {num_samples} x {num_classes}; the fold "
            "runs used another data set size (data.subset?)."
        )
    static = bool(cfg.method.get("static", False))
    epochs = int(cfg.optim.epochs)
    if not static and traj.num_epochs != epochs:
        raise UserError(
            f"Dynamic replay feeds the fold runs' labels of epoch e at epoch e, so this run must train "
            f"as many epochs as they did ({traj.num_epochs}), not optim.epochs={epochs}. Set "
            f"optim.epochs={traj.num_epochs}, or method.static=true to use the last epoch's labels."
        )
    targets = data.train_targets
    trajectory: Callable[[int], torch.Tensor] = lambda e: traj.labels(e, targets)  # noqa: E731
    return {"trajectory": trajectory, "num_epochs": traj.num_epochs, "static": static}
