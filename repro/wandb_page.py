"""What a run's W&B page holds, so that it assembles itself: metric keys by topic, epoch as every key's step,
best/last summaries, and at the run's end custom charts (W&B's line-series preset) and figure images.

Topics (W&B makes one panel section per key prefix): `accuracy/` (train, val = the meta set, test), `loss/`,
`optim/`, `time/`, `meta_acc_class/` and `test_acc_class/` (accuracy of every class on the meta set, where the run
has one, and on the test set; every method), `labels/`, `noise/`
(noise-correction rates), `weights/` and `temperatures/` (reweighting methods), `method/` (other method scalars).
The metrics.jsonl row keys are unchanged; only their W&B names are. Nothing here may stop a run: the tracker
(repro/tracking.py) guards every call.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

MAX_CLASS_KEYS = 20  # up to this many classes every class is its own key; above, a table, a heatmap and 3 classes
NOISE_KEYS = ("noisy_top1_corrected", "noisy_top5_corrected", "noisy_top1_given", "clean_top1_damaged",
              "label_noise_top1", "noisy_label_entropy", "clean_label_entropy")
RENAMED = {
    "train_acc": "accuracy/train", "val_acc": "accuracy/val", "test_acc": "accuracy/test",
    "train_loss": "loss/train", "lr": "optim/lr", "seconds": "time/epoch_seconds",
    "label_entropy": "labels/entropy_mean", "label_given_prob": "labels/given_prob_mean",
    "label_change_mean": "labels/change_from_init_mean",
    **{f"class_target_prob_{s}": f"labels/class_target_prob_{s}" for s in ("mean", "min", "max")},
    **{k: f"noise/{k}" for k in NOISE_KEYS},
}
# per-class accuracy lists of a metrics row -> (W&B key prefix, chart title, chart key); meta set = validation set
PER_CLASS = {"val_per_class_acc": ("meta_acc_class", "Meta-set accuracy per class", "meta_acc_per_class"),
             "test_per_class_acc": ("test_acc_class", "Test accuracy per class", "test_acc_per_class")}
# key -> W&B summary ("best" only where selecting by it is legitimate: never the test accuracy)
SUMMARIES = {
    "accuracy/val": "max,last", "accuracy/train": "last", "accuracy/test": "last", "loss/train": "min,last",
    "noise/noisy_top1_corrected": "max,last", "noise/noisy_top5_corrected": "max,last",
    "noise/label_accuracy_top1": "max,last", "noise/clean_top1_damaged": "last", "noise/noisy_top1_given": "last",
}
CHART_NOISE = {"noisy_top1_corrected": "noisy: top-1 corrected", "noisy_top5_corrected": "noisy: top-5 corrected",
               "noisy_top1_given": "noisy: top-1 still given", "clean_top1_damaged": "clean: top-1 damaged",
               "label_accuracy_top1": "all samples: label top-1 correct"}


def safe_name(name: str) -> str:
    """A class name as a W&B key part (no slashes or spaces)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)) or "_"


def spot_classes(num_classes: int, count: int = 3) -> list[int]:
    """Classes spread evenly over 0..C-1 (the same in every run, so runs overlay)."""
    return sorted({int(round(x)) for x in np.linspace(0, num_classes - 1, num=min(count, num_classes))})


def figure2_classes(target_prob: np.ndarray) -> list[int]:
    """The classes Figure 2 draws (analysis/figure_labels.py): lowest, median and highest mean target probability."""
    order = np.argsort(np.asarray(target_prob, dtype=np.float64).mean(axis=0), kind="stable")
    return list(dict.fromkeys([int(order[0]), int(order[len(order) // 2]), int(order[-1])]))


@dataclass
class PageContext:
    """What the page needs to know about the run beyond its metrics rows."""

    class_names: list[str]
    run_dir: Any = None                     # repro.rundir.RunDir
    config: dict = field(default_factory=dict)
    learns_labels: str | None = None        # "class" / "instance" when this run learns (and records) labels
    noisy: bool = False
    instances: list[tuple[int, int, int]] = field(default_factory=list)  # tracked samples: (index, given, true)

    @classmethod
    def from_experiment(cls, exp: Any, config: Mapping[str, Any]) -> "PageContext":
        from repro.recording import ClassTrajectoryRecorder, InstanceTrajectoryRecorder

        kinds = {ClassTrajectoryRecorder: "class", InstanceTrajectoryRecorder: "instance"}
        learns, instances = None, []
        for recorder in getattr(exp, "recorders", []):
            for kind_cls, kind in kinds.items():
                if isinstance(recorder, kind_cls):
                    learns = kind
            if isinstance(recorder, InstanceTrajectoryRecorder):
                rows = {g: i for i, g in enumerate(recorder.rows.index.tolist())}
                instances = [(g, int(recorder.rows.given[rows[g]]), int(recorder.rows.true[rows[g]]))
                             for g in recorder.tracked]
        return cls(class_names=[str(c) for c in exp.data.train.classes], run_dir=exp.run_dir, config=dict(config),
                   learns_labels=learns, noisy=bool(exp.data.noisy_mask.any()), instances=instances)

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
    names = _names(ctx.class_names if ctx is not None else [], len(values))
    chosen = range(len(values)) if len(values) <= MAX_CLASS_KEYS else spot_classes(len(values))
    return {f"{prefix}/{safe_name(names[c])}": float(values[c]) for c in chosen}


def _names(class_names: list[str], count: int) -> list[str]:
    return list(class_names) if len(class_names) == count else [str(c) for c in range(count)]


# ------------------------------------------------------------------------------------------------ end of run


def end_charts(wandb: Any, history: list[Mapping[str, Any]], ctx: PageContext) -> dict[str, Any]:
    """The custom charts (and tables) of the run's page, built from its whole history and label files."""
    charts: dict[str, Any] = {}
    epochs = [int(r["epoch"]) for r in history]
    traj = _class_trajectory(ctx)
    for row_key, (_, title, chart) in PER_CLASS.items():
        acc = per_class_matrix(history, row_key)
        if acc is None:
            continue
        names = _names(ctx.class_names, acc.shape[1])
        chosen = list(range(acc.shape[1]))
        if ctx.many_classes:
            chosen = figure2_classes(traj) if traj is not None and traj.shape[1] == acc.shape[1] \
                else spot_classes(acc.shape[1])
            charts[f"tables/{chart}"] = wandb.Table(
                columns=["epoch", *names], data=[[e, *map(float, row)] for e, row in zip(epochs, acc)])
        charts[f"charts/{chart}"] = _lines(wandb, epochs, [acc[:, c] for c in chosen], [names[c] for c in chosen],
                                            title, "accuracy")
    if ctx.noisy and history and all(r.get("noisy_top1_corrected") is not None for r in history):
        series = {**{k: [r.get(k) for r in history] for k in CHART_NOISE if k != "label_accuracy_top1"},
                  "label_accuracy_top1": [1.0 - r["label_noise_top1"] for r in history]}
        charts["charts/noise_correction"] = _lines(wandb, epochs, list(series.values()),
                                                   [CHART_NOISE[k] for k in series], "Noise correction", "share")
    if traj is not None:
        chosen = figure2_classes(traj) if ctx.many_classes else list(range(traj.shape[1]))
        charts["charts/class_target_prob"] = _lines(wandb, list(range(1, len(traj) + 1)),
                                                    [traj[:, c] for c in chosen],
                                                    [ctx.class_names[c] for c in chosen],
                                                    "Class labels: target probability", "target probability")
    if ctx.learns_labels == "instance" and ctx.instances:
        lines, keys, xs = _instance_lines(ctx)
        if lines:
            charts["charts/tracked_instance_labels"] = _lines(wandb, xs, lines, keys,
                                                              "Tracked samples: given- and true-class probability",
                                                              "label probability")
    return charts


def per_class_matrix(history: list[Mapping[str, Any]], row_key: str) -> np.ndarray | None:
    """[E, C] per-class accuracy of every epoch, or None when some epoch lacks it (or classes differ)."""
    rows = [r.get(row_key) for r in history]
    if not rows or any(not r for r in rows) or len({len(r) for r in rows}) != 1:
        return None
    return np.array(rows, dtype=np.float64)


def _lines(wandb: Any, xs: list[int], ys: list[Any], keys: list[str], title: str, yname: str) -> Any:
    clean = [[None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in y] for y in ys]
    return wandb.plot.line_series(xs=list(xs), ys=clean, keys=list(keys), title=title, xname="epoch")


def _class_trajectory(ctx: PageContext) -> np.ndarray | None:
    if ctx.learns_labels != "class" or ctx.run_dir is None:
        return None
    from repro.trajectory import read_class_trajectory

    return np.asarray(read_class_trajectory(ctx.run_dir), dtype=np.float64)


def _instance_lines(ctx: PageContext) -> tuple[list[list[float]], list[str], list[int]]:
    """Per tracked sample, its label's probability of the given class and (noisy samples) of the true class, per
    epoch, from the top-k records (NaN where the class is outside the top k)."""
    from repro.trajectory import read_instance_topk, recorded_epochs

    epochs = list(range(1, recorded_epochs(ctx.run_dir) + 1))
    series: dict[str, list[float]] = {}
    position: dict[int, int] | None = None
    for epoch in epochs:
        index, classes, probs = read_instance_topk(ctx.run_dir, epoch)
        if position is None:
            position = {int(g): i for i, g in enumerate(index.tolist())}
        for sample, given, true in ctx.instances:
            row = position.get(sample)
            for cls, what in ((given, "given"), (true, "true")) if given != true else ((given, "given"),):
                hit = np.flatnonzero(classes[row] == cls) if row is not None else []
                value = float(probs[row][hit[0]]) if len(hit) else float("nan")
                series.setdefault(f"#{sample} {what} ({ctx.class_names[cls]})", []).append(value)
    return list(series.values()), list(series), epochs


def end_images(ctx: PageContext, history: list[Mapping[str, Any]], out_dir: Path) -> dict[str, Path]:
    """PNG files for the page: a learned-label run's own Figure 2 / Figure 4 panels (the plotting helpers of
    analysis/figure_labels.py on this one run), and with many classes a heatmap of per-class meta accuracy."""
    from repro.io import atomic_write_bytes

    images: dict[str, Path] = {}
    for name, png in _figure_pngs(ctx, history).items():
        images[f"figures/{name}"] = atomic_write_bytes(out_dir / f"{name}.png", png)
    return images


def _figure_pngs(ctx: PageContext, history: list[Mapping[str, Any]]) -> dict[str, bytes]:
    pngs: dict[str, bytes] = {}
    if ctx.learns_labels is not None:
        from analysis.figure_common import RunGroup
        from analysis.figure_labels import (class_panels, instance_examples, noise_correction_curve,
                                            render_figure2, render_figure4)

        group = RunGroup([ctx.run_dir], ctx.config)
        if ctx.learns_labels == "class":
            pngs["figure2"] = render_figure2(class_panels(group), None, {"instance": "this run learns class labels"})
        elif not ctx.noisy:
            pngs["figure2"] = render_figure2(None, instance_examples(group), {"class": "this run learns instance "
                                                                                      "labels"})
        if ctx.learns_labels == "instance" and ctx.noisy:
            pngs["figure4"] = render_figure4(noise_correction_curve(group))
    if ctx.many_classes:
        for row_key, (_, title, chart) in PER_CLASS.items():
            acc = per_class_matrix(history, row_key)
            if acc is not None:
                pngs[f"{chart}_heatmap"] = _heatmap(acc, title)
    return pngs


def _heatmap(acc: np.ndarray, title: str) -> bytes:
    from analysis.figure_common import _png, plt

    fig, ax = plt.subplots(figsize=(10, 4))
    im = ax.imshow(acc.T, aspect="auto", origin="lower", cmap="viridis", vmin=0, vmax=1,
                   extent=(0.5, len(acc) + 0.5, -0.5, acc.shape[1] - 0.5))
    ax.set(xlabel="epoch", ylabel="class", title=title)
    fig.colorbar(im, ax=ax, label="accuracy")
    return _png(fig)
