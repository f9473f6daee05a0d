"""What a run's W&B page holds, so that it assembles itself: metric keys by topic, epoch as every key's step,
best/last summaries; at the run's end custom charts (W&B's line-series preset) and figure images (wandb_charts.py).

Topics (W&B makes one panel section per key prefix): `accuracy/` (train, val = the meta set, test), `loss/`,
`optim/`, `time/`, `meta_acc_class/` and `test_acc_class/` (accuracy of every class on the meta set, where the run
has one, and on the test set; every method), `labels/`, `noise/`
(noise-correction rates), `memorisation/` (every method on noisy training data), `weights/` and `temperatures/`
(reweighting methods), `method/` (other method scalars).
The metrics.jsonl row keys are unchanged; only their W&B names are. Nothing here may stop a run: the tracker
(repro/tracking/tracker.py) guards every call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from repro.labels.recording import InstanceTrajectoryRecorder
from repro.labels.registry import label_kind
from repro.labels.replay import ReplayLabels
from repro.recorders.memorisation import MEMORISATION_KEYS

MAX_CLASS_KEYS = 20  # up to this many classes every class is its own key; above, a table, a heatmap and 3 classes
NOISE_KEYS = (
    "noisy_top1_corrected",
    "noisy_top5_corrected",
    "noisy_top1_given",
    "clean_top1_damaged",
    "label_noise_top1",
    "label_acc_top5",
    "noisy_label_entropy",
    "clean_label_entropy",
    "uncorrected_label_entropy",
)
RENAMED = {
    "train_acc": "accuracy/train",
    "val_acc": "accuracy/val",
    "test_acc": "accuracy/test",
    "train_loss": "loss/train",
    "lr": "optim/lr",
    "seconds": "time/epoch_seconds",
    "label_entropy": "labels/entropy_mean",
    "label_given_prob": "labels/given_prob_mean",
    "label_change_mean": "labels/change_from_init_mean",
    **{f"class_target_prob_{s}": f"labels/class_target_prob_{s}" for s in ("mean", "min", "max")},
    **{k: f"noise/{k}" for k in NOISE_KEYS},
    **{
        k: f"memorisation/{k}" for k in MEMORISATION_KEYS
    },  # every method on noisy data (repro/recorders/memorisation.py)
    # the per-epoch T estimate's error (repro/recorders/transition_estimate.py)
    "anchor_t_mae": "memorisation/anchor_t_mae",
}
# per-class accuracy lists of a metrics row -> (W&B key prefix, chart title, chart key); meta set = validation set
PER_CLASS = {
    "val_per_class_acc": ("meta_acc_class", "Meta-set accuracy per class", "meta_acc_per_class"),
    "test_per_class_acc": ("test_acc_class", "Test accuracy per class", "test_acc_per_class"),
}
# key -> W&B summary ("best" only where selecting by it is legitimate: never the test accuracy)
SUMMARIES = {
    "accuracy/val": "max,last",
    "accuracy/train": "last",
    "accuracy/test": "last",
    "loss/train": "min,last",
    "noise/noisy_top1_corrected": "max,last",
    "noise/noisy_top5_corrected": "max,last",
    "noise/label_accuracy_top1": "max,last",
    "noise/clean_top1_damaged": "last",
    "noise/noisy_top1_given": "last",
}
CHART_NOISE = {
    "noisy_top1_corrected": "noisy: top-1 corrected",
    "noisy_top5_corrected": "noisy: top-5 corrected",
    "noisy_top1_given": "noisy: top-1 still given",
    "clean_top1_damaged": "clean: top-1 damaged",
    "label_accuracy_top1": "all samples: label top-1 correct",
}


def safe_name(name: str) -> str:
    """A class name as a W&B key part (no slashes or spaces)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)) or "_"


def spot_classes(num_classes: int, count: int = 3) -> list[int]:
    """Classes spread evenly over 0..C-1 (the same in every run, so runs overlay)."""
    return sorted({int(round(x)) for x in np.linspace(0, num_classes - 1, num=min(count, num_classes))})


def figure2_classes(target_prob: np.ndarray) -> list[int]:
    """The classes Figure 2 draws (analysis/figures/labels.py): lowest, median and highest mean target probability."""
    order = np.argsort(np.asarray(target_prob, dtype=np.float64).mean(axis=0), kind="stable")
    return list(dict.fromkeys([int(order[0]), int(order[len(order) // 2]), int(order[-1])]))


@dataclass
class PageContext:
    """What the page needs to know about the run beyond its metrics rows."""

    class_names: list[str]
    run_dir: Any = None  # repro.runs.rundir.RunDir
    config: dict = field(default_factory=dict)
    panels: frozenset = frozenset()  # what its label trajectory is drawn as: its label kind's `panels` (Panel)
    noisy: bool = False
    instances: list[tuple[int, int, int]] = field(default_factory=list)  # tracked samples: (index, given, true)
    replay: Any = None  # a replay final's ReplayLabels (the fold-averaged trajectory)
    train_given: Any = None  # (global index, given label) tensors of the training samples

    @classmethod
    def from_experiment(cls, exp: Any, config: Mapping[str, Any]) -> PageContext:
        panels, instances = frozenset(), []
        for recorder in exp.recorders:
            if getattr(recorder, "kind", None):  # a trajectory recorder, for the label kind it records
                panels = label_kind(recorder.kind).panels
            if isinstance(recorder, InstanceTrajectoryRecorder):
                rows = {g: i for i, g in enumerate(recorder.rows.index.tolist())}
                instances = [
                    (g, int(recorder.rows.given[rows[g]]), int(recorder.rows.true[rows[g]])) for g in recorder.tracked
                ]

        labels = exp.method.labels
        replay = labels if isinstance(labels, ReplayLabels) else None
        index = exp.data.train_idx.cpu()
        return cls(
            class_names=[str(c) for c in exp.data.train.classes],
            run_dir=exp.run_dir,
            config=dict(config),
            panels=panels,
            noisy=bool(exp.data.noisy_mask.any()),
            instances=instances,
            replay=replay,
            train_given=(index, exp.data.train_targets.cpu()[index]) if replay is not None else None,
        )

    @property
    def many_classes(self) -> bool:
        return len(self.class_names) > MAX_CLASS_KEYS


def define_metrics(run: Any) -> None:
    """Epoch is the x-axis of every key; summaries where they mean something."""
    run.define_metric("epoch")
    run.define_metric("*", step_metric="epoch")
    for key, summary in SUMMARIES.items():
        run.define_metric(key, step_metric="epoch", summary=summary)


def epoch_keys(metrics: Mapping[str, Any], ctx: PageContext | None, step: int | None) -> dict[str, Any]:
    """A metrics row (or a recorder's scalars) under its W&B names, with `epoch`; lists become per-class keys."""
    out: dict[str, Any] = {} if step is None else {"epoch": step}
    for key, value in metrics.items():
        if key == "epoch":
            out["epoch"] = value
        elif key in PER_CLASS:
            out.update(per_class_keys(PER_CLASS[key][0], value, ctx))
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            if "/" in key:  # a media object (histogram, table) a recorder logs under its own name
                out[key] = value
        else:
            out[topic_key(key)] = value
            if key == "label_noise_top1":
                out["noise/label_accuracy_top1"] = 1.0 - float(value)
    return out


def topic_key(key: str) -> str:
    if "/" in key:
        return key
    if key in RENAMED:
        return RENAMED[key]
    if key.startswith("weight"):
        return f"weights/{key}"
    if key.startswith("temperature") or key.endswith("temperature"):
        return f"temperatures/{key}"
    return f"method/{key}"


def per_class_keys(prefix: str, values: Any, ctx: PageContext | None) -> dict[str, float]:
    values = list(values or [])
    names = names_for(ctx.class_names if ctx is not None else [], len(values))
    chosen = range(len(values)) if len(values) <= MAX_CLASS_KEYS else spot_classes(len(values))
    return {f"{prefix}/{safe_name(names[c])}": float(values[c]) for c in chosen}


def names_for(class_names: list[str], count: int) -> list[str]:
    return list(class_names) if len(class_names) == count else [str(c) for c in range(count)]
