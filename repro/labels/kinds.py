"""The built-in label kinds: one-hot, fixed smoothing, the paper's class and instance labels, and replayed labels.
Each class carries its options, recorders, trajectory format and the panels it is drawn as, fold averaging and
converged labels; the parametrisations themselves are fixed.py, learned.py and replay.py. repro/labels/registry.py
lists them by name (LABEL_KINDS) and imports this module when one is first looked up."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from torch import Tensor

from repro.labels.fixed import OneHotLabels, SmoothedLabels
from repro.labels.fold_average import (
    average_class_trajectories,
    average_instance_labels,
    averaged_trajectory,
    replay_source,
)
from repro.labels.learned import ClassLabels, InstanceLabels, class_labels_matrix
from repro.labels.recording import ClassTrajectoryRecorder, InstanceTrajectoryRecorder, LabelStatsRecorder
from repro.labels.registry import LabelKind, Panel
from repro.labels.replay import ReplayLabels
from repro.labels.trajectory import instance_labels_at, read_class_trajectory, topk_epochs
from repro.runs.io import atomic_output, atomic_save_npy
from repro.runs.rundir import RunDir


class OneHotKind(LabelKind):
    name = "onehot"

    @classmethod
    def build(cls, *, num_samples: int, num_classes: int, targets: Tensor, dtype: torch.dtype, **options: Any):
        return OneHotLabels(num_classes, dtype=dtype)


class SmoothingKind(LabelKind):
    name = "smoothing"
    options = ("epsilon",)

    @classmethod
    def options_from(cls, cfg: Any, data: Any) -> dict[str, Any]:
        return {"epsilon": float(cfg.method.epsilon)}

    @classmethod
    def build(cls, *, num_samples: int, num_classes: int, targets: Tensor, dtype: torch.dtype, **options: Any):
        return SmoothedLabels(num_classes, options["epsilon"], dtype=dtype)


class _LearnedKind(LabelKind):
    """What the paper's two learned kinds share: options from method.init_target_prob / method.label_lr."""

    options = ("init_target_prob", "lr")
    learned = True

    @classmethod
    def options_from(cls, cfg: Any, data: Any) -> dict[str, Any]:
        return {"init_target_prob": float(cfg.method.init_target_prob), "lr": float(cfg.method.label_lr)}


class ClassKind(_LearnedKind):
    """Class labels: one smoothing parameter per class; trajectory [E, C] of target-class probabilities."""

    name = "class"
    trajectory = "class"
    wandb_topics = ("labels/class_target_prob",)
    panels = frozenset({Panel.CLASS_CURVES})

    @classmethod
    def build(cls, *, num_samples: int, num_classes: int, targets: Tensor, dtype: torch.dtype, **options: Any):
        return ClassLabels(num_classes, options["init_target_prob"], options["lr"], dtype=dtype)

    @classmethod
    def recorders(cls, exp: Any, settings: Any) -> list:
        return [ClassTrajectoryRecorder(exp, settings, kind=cls.name), LabelStatsRecorder(exp, settings)]

    @classmethod
    def recorded_epochs(cls, run: RunDir | str | Path) -> int:
        return int(read_class_trajectory(run).shape[0])

    @classmethod
    def averaged_file(cls) -> str:
        return "class_target_prob.npy"

    @classmethod
    def averaged_shape(cls, num_epochs: int, num_samples: int, num_classes: int) -> tuple[int, ...]:
        return (num_epochs, num_classes)

    @classmethod
    def write_average(
        cls, fold_dirs: Sequence[RunDir], target: Path, *, num_epochs: int, num_samples: int, num_classes: int
    ) -> None:
        averaged = average_class_trajectories([read_class_trajectory(rd) for rd in fold_dirs])
        atomic_save_npy(target / cls.averaged_file(), averaged)

    @classmethod
    def averaged_labels(cls, row: np.ndarray, targets: Tensor) -> Tensor:
        return class_labels_matrix(row, targets)

    @classmethod
    def converged_labels(cls, rd: RunDir, config: Mapping[str, Any], targets: Tensor) -> tuple[Tensor, int]:
        labels = class_labels_matrix(read_class_trajectory(rd)[-1], targets)
        return labels, labels.shape[0]


class InstanceKind(_LearnedKind):
    """Instance labels: one label vector per training sample; top-k records every epoch plus snapshots."""

    name = "instance"
    trajectory = "instance"
    wandb_topics = ("labels/instance_", "labels/most_changed")
    panels = frozenset({Panel.INSTANCE_EXAMPLES, Panel.NOISE_CORRECTION, Panel.TRACKED_SAMPLES})

    @classmethod
    def build(cls, *, num_samples: int, num_classes: int, targets: Tensor, dtype: torch.dtype, **options: Any):
        return InstanceLabels(
            num_samples, num_classes, targets, options["init_target_prob"], options["lr"], dtype=dtype
        )

    @classmethod
    def recorders(cls, exp: Any, settings: Any) -> list:
        return [InstanceTrajectoryRecorder(exp, settings, kind=cls.name), LabelStatsRecorder(exp, settings)]

    @classmethod
    def recorded_epochs(cls, run: RunDir | str | Path) -> int:
        return topk_epochs(run)

    @classmethod
    def averaged_file(cls) -> str:
        return "labels.npy"

    @classmethod
    def averaged_shape(cls, num_epochs: int, num_samples: int, num_classes: int) -> tuple[int, ...]:
        return (num_epochs, num_samples, num_classes)

    @classmethod
    def write_average(
        cls, fold_dirs: Sequence[RunDir], target: Path, *, num_epochs: int, num_samples: int, num_classes: int
    ) -> None:
        with atomic_output(target / cls.averaged_file()) as tmp:
            out = np.lib.format.open_memmap(
                tmp, mode="w+", dtype=np.float16, shape=(num_epochs, num_samples, num_classes)
            )
            for e in range(num_epochs):
                parts = [instance_labels_at(rd, e + 1) for rd in fold_dirs]
                out[e] = average_instance_labels(parts, num_samples)
            out.flush()
            del out

    @classmethod
    def averaged_labels(cls, row: np.ndarray, targets: Tensor) -> Tensor:
        labels = torch.from_numpy(row)
        return labels / labels.sum(dim=1, keepdim=True)

    @classmethod
    def converged_labels(cls, rd: RunDir, config: Mapping[str, Any], targets: Tensor) -> tuple[Tensor, int]:
        """Samples the run never trained on (its meta set) keep the one-hot of their given label."""
        index, rows = instance_labels_at(rd, int(config["optim"]["epochs"]))
        labels = torch.nn.functional.one_hot(targets, int(config["data"]["num_classes"])).float()
        labels[torch.from_numpy(index.astype(np.int64))] = torch.from_numpy(rows)
        return labels, len(index)


class ReplayKind(LabelKind):
    """The 5-fold protocol's final stage: the fold runs' averaged trajectory, replayed
    (repro/labels/fold_average.py)."""

    name = "replay"
    options = ("trajectory", "num_epochs", "static")

    @classmethod
    def options_from(cls, cfg: Any, data: Any) -> dict[str, Any]:
        return replay_source(cfg, data)

    @classmethod
    def build(cls, *, num_samples: int, num_classes: int, targets: Tensor, dtype: torch.dtype, **options: Any):
        return ReplayLabels(
            options["trajectory"], options["num_epochs"], static=options.get("static", False), dtype=dtype
        )

    @classmethod
    def has_converged_labels(cls) -> bool:
        return True

    @classmethod
    def converged_labels(cls, rd: RunDir, config: Mapping[str, Any], targets: Tensor) -> tuple[Tensor, int]:
        """Every sample's fold-averaged labels at the last epoch."""
        traj = averaged_trajectory({**config, "output_root": str(rd.path.parent.parent)})
        labels = traj.labels(traj.num_epochs - 1, targets)
        return labels, labels.shape[0]
