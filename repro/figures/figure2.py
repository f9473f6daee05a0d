"""One run group's Figure 2 panels (PNG): left and middle, the meta-set accuracy and the learned target probability
of three classes (lowest, median and highest mean target probability) for class labels; right, the learned instance
labels of the samples with the most mass off their target.

Why in the core: the W&B page of a learned-label run draws it for that run (repro/tracking/wandb_charts.py);
analysis/figures/labels.py picks the paper's runs and draws the same panels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
from matplotlib.ticker import MaxNLocator

from repro.figures.common import (
    COLORS,
    RunGroup,
    Skip,
    caption,
    class_names,
    group_label,
    last_recorded_epoch,
    metrics_rows,
    note,
    plt,
    png_bytes,
    sample_image,
    show_image,
    try_run_data,
)
from repro.labels.trajectory import instance_labels_at, read_class_trajectory

__all__ = ["ClassPanels", "InstanceExample", "class_panels", "instance_examples", "render_figure2"]


@dataclass
class ClassPanels:
    classes: list[int]
    names: list[str]
    epochs: np.ndarray
    meta_acc_mean: np.ndarray  # [E, 3]
    meta_acc_std: np.ndarray
    target_prob_mean: np.ndarray  # [E, 3]
    target_prob_std: np.ndarray
    label: str
    n_seeds: int


def class_panels(group: RunGroup) -> ClassPanels:
    """Figure 2 left/middle: meta-set accuracy and learned target probability of three classes, over seeds."""
    trajs = [read_class_trajectory(rd).astype(np.float64) for rd in group.runs]
    epochs = min(t.shape[0] for t in trajs)
    traj = np.stack([t[:epochs] for t in trajs])  # [S, E, C]
    accs = []
    for rd in group.runs:
        rows = [r for r in metrics_rows(rd) if r.get("val_per_class_acc") is not None][:epochs]
        if len(rows) < epochs:
            raise Skip(
                f"run {rd.run_id} logged per-class meta-set accuracy (val_per_class_acc) for {len(rows)} of "
                f"{epochs} epochs."
            )
        acc = np.full((epochs, traj.shape[2]), np.nan)
        for e, r in enumerate(rows):
            values = np.asarray(r["val_per_class_acc"], dtype=np.float64)[: traj.shape[2]]
            acc[e, : len(values)] = values
        accs.append(acc)
    acc = np.stack(accs)  # [S, E, C]
    order = np.argsort(traj.mean(axis=(0, 1)), kind="stable")
    chosen = [int(order[0]), int(order[len(order) // 2]), int(order[-1])]
    names = class_names(group.config, traj.shape[2])
    ddof = 1 if len(group.runs) > 1 else 0
    return ClassPanels(
        classes=chosen,
        names=[names[c] for c in chosen],
        epochs=np.arange(1, epochs + 1),
        meta_acc_mean=np.nanmean(acc[:, :, chosen], axis=0),
        meta_acc_std=np.nanstd(acc[:, :, chosen], axis=0, ddof=ddof),
        target_prob_mean=traj[:, :, chosen].mean(axis=0),
        target_prob_std=traj[:, :, chosen].std(axis=0, ddof=ddof),
        label=group_label(group.config),
        n_seeds=len(group.runs),
    )


@dataclass
class InstanceExample:
    index: int
    image: np.ndarray | None  # [H, W] or [H, W, 3] uint8
    target: int
    target_prob: float
    others: list[int]  # the top non-target classes, most probable first
    other_probs: list[float]


def instance_examples(group: RunGroup, *, count: int = 3, top: int = 3) -> tuple[list[InstanceExample], list[str]]:
    """Figure 2 right: the learned labels at the last epoch of the `count` training samples with the most mass on
    non-target classes, with their top `top` non-target classes."""
    rd = group.runs[0]
    index, labels = instance_labels_at(rd, last_recorded_epoch(rd))
    data = try_run_data(group.config)
    targets = data.train_targets.numpy()[index] if data is not None else labels.argmax(axis=1)
    target_prob = labels[np.arange(len(index)), targets]
    picks = np.argsort(target_prob, kind="stable")[:count]
    names = class_names(group.config, labels.shape[1])
    examples = []
    for i in picks:
        row = labels[i].copy()
        row[targets[i]] = -1.0
        others = [int(c) for c in np.argsort(-row, kind="stable")[:top]]
        examples.append(
            InstanceExample(
                int(index[i]),
                sample_image(data, int(index[i])),
                int(targets[i]),
                float(target_prob[i]),
                others,
                [float(labels[i, c]) for c in others],
            )
        )
    return examples, names


def render_figure2(
    panels: ClassPanels | None,
    examples: tuple[list[InstanceExample], list[str]] | None,
    reasons: dict[str, str],
    groups: Mapping[str, RunGroup | None] | None = None,
) -> bytes:
    fig = plt.figure(figsize=(15, 4.6))
    outer = fig.add_gridspec(1, 3, wspace=0.3)
    left, middle = fig.add_subplot(outer[0]), fig.add_subplot(outer[1])
    if panels is not None:
        for k, (name, color) in enumerate(zip(panels.names, COLORS)):
            for ax, mean, std in (
                (left, panels.meta_acc_mean, panels.meta_acc_std),
                (middle, panels.target_prob_mean, panels.target_prob_std),
            ):
                ax.plot(panels.epochs, mean[:, k], color=color, label=name)
                ax.fill_between(
                    panels.epochs,
                    np.clip(mean[:, k] - std[:, k], 0, 1),
                    np.clip(mean[:, k] + std[:, k], 0, 1),
                    color=color,
                    alpha=0.2,
                )
        left.set(title=f"Meta-set accuracy ({panels.label})", xlabel="epoch", ylabel="accuracy")
        for ax in (left, middle):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        middle.set(
            title=f"Class label: target probability (mean ± std, {panels.n_seeds} seeds)",
            xlabel="epoch",
            ylabel="target-class probability",
        )
        left.legend(title="class")
        middle.legend(title="class")
    else:
        for ax in (left, middle):
            note(ax, f"no class-label runs: {reasons.get('class', '')}")
    if examples is not None and examples[0]:
        items, names = examples
        # Room between an image and its bars for the class names (CIFAR-100's run to 13 characters, "aquarium_fish").
        longest = max((len(names[c]) for ex in items[:3] for c in ex.others), default=1)
        right = outer[2].subgridspec(3, 2, width_ratios=[1, 3], hspace=0.6, wspace=min(1.0, 0.15 + 0.06 * longest))
        for r, ex in enumerate(items[:3]):
            ax_img, ax_bar = fig.add_subplot(right[r, 0]), fig.add_subplot(right[r, 1])
            show_image(ax_img, ex.image)
            ax_img.set_title(f"#{ex.index}", fontsize=8)
            ax_bar.barh(range(len(ex.others)), ex.other_probs, color=COLORS[: len(ex.others)])
            ax_bar.set_yticks(range(len(ex.others)), [names[c] for c in ex.others], fontsize=8)
            ax_bar.invert_yaxis()
            ax_bar.set_xlim(0, max(max(ex.other_probs) * 1.35, 1e-6))
            ax_bar.tick_params(axis="x", labelsize=7)
            ax_bar.xaxis.set_major_locator(MaxNLocator(nbins=3))
            ax_bar.set_title(f"target {names[ex.target]}: p = {ex.target_prob:.3f}", fontsize=8)
            for y, p in enumerate(ex.other_probs):
                ax_bar.text(p, y, f" {p:.3f}", va="center", fontsize=7)
        fig.text(0.80, 0.98, "Instance labels: top non-target classes (last epoch)", ha="center", fontsize=10)
    else:
        note(fig.add_subplot(outer[2]), f"no instance-label runs: {reasons.get('instance', '')}")
    caption(fig, groups or {})
    return png_bytes(fig)
