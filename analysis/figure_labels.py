"""Figures 2-3 of the paper (PNG, headless; Figure 4 is analysis/figure4.py): the learned labels of finished class-
and instance-label runs, from their directories.

Each figure picks its runs as analysis/figure_select.py says: the paper's selection by default (Figure 2: ResNet18
on CIFAR-100, Table 1's learning runs, class labels left/middle and instance labels without noise right; Figure 3:
instance labels on CIFAR-100 at 40% noise), `repro figures --where key=value ...` otherwise; among the matching
runs, the configuration with the most finished seeds (the paper's "mean and std over three runs"). Which runs were
drawn is printed and written under the figure. A figure without suitable runs raises Skip with the reason
(analysis/figures.py prints it; the others still render).

Choices where the paper leaves room: Figure 2 shows the classes with the lowest, median and highest mean learned
target probability (the paper: "three random classes"), so the link between accuracy and smoothing is visible;
Figure 3 shows the corrected noisy samples with the highest true-class probability at convergence, and their
labels at initialisation (p0 on the given class, (1 - p0)/(C - 1) elsewhere) and at the last epoch.

Why this module: like figure_noise.py and figure_targets.py, it holds its figures' run selection, data and
drawing; analysis/figures.py only lists the figures and writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from analysis.figure_common import (COLORS, RunGroup, Skip, _epochs, _image, _note, _png, _rows, _show_image,
                                    _try_run_data, announce, caption, class_names, group_label, pick_group, plt,
                                    run_data)
from analysis.figure4 import NoiseCurve, build_figure4, label_accuracy, noise_correction_curve, render_figure4

__all__ = ["NoiseCurve", "build_figure2", "build_figure3", "build_figure4", "class_panels", "corrected_examples",
           "instance_examples", "label_accuracy", "noise_correction_curve", "render_figure4"]  # Figure 4: figure4.py


# ------------------------------------------------------------------------------------------------ figure 2


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
    from repro.trajectory import read_class_trajectory

    trajs = [read_class_trajectory(rd).astype(np.float64) for rd in group.runs]
    epochs = min(t.shape[0] for t in trajs)
    traj = np.stack([t[:epochs] for t in trajs])  # [S, E, C]
    accs = []
    for rd in group.runs:
        rows = [r for r in _rows(rd) if r.get("val_per_class_acc") is not None][:epochs]
        if len(rows) < epochs:
            raise Skip(f"run {rd.run_id} logged per-class meta-set accuracy (val_per_class_acc) for {len(rows)} of "
                       f"{epochs} epochs.")
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
        classes=chosen, names=[names[c] for c in chosen], epochs=np.arange(1, epochs + 1),
        meta_acc_mean=np.nanmean(acc[:, :, chosen], axis=0),
        meta_acc_std=np.nanstd(acc[:, :, chosen], axis=0, ddof=ddof),
        target_prob_mean=traj[:, :, chosen].mean(axis=0), target_prob_std=traj[:, :, chosen].std(axis=0, ddof=ddof),
        label=group_label(group.config), n_seeds=len(group.runs),
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
    from repro.trajectory import instance_labels_at

    rd = group.runs[0]
    index, labels = instance_labels_at(rd, _epochs(rd))
    data = _try_run_data(group.config)
    targets = data.train_targets.numpy()[index] if data is not None else labels.argmax(axis=1)
    target_prob = labels[np.arange(len(index)), targets]
    picks = np.argsort(target_prob, kind="stable")[:count]
    names = class_names(group.config, labels.shape[1])
    examples = []
    for i in picks:
        row = labels[i].copy()
        row[targets[i]] = -1.0
        others = [int(c) for c in np.argsort(-row, kind="stable")[:top]]
        examples.append(InstanceExample(int(index[i]), _image(data, int(index[i])), int(targets[i]),
                                        float(target_prob[i]), others, [float(labels[i, c]) for c in others]))
    return examples, names


def render_figure2(panels: ClassPanels | None, examples: tuple[list[InstanceExample], list[str]] | None,
                   reasons: dict[str, str], groups: Mapping[str, RunGroup | None] | None = None) -> bytes:
    fig = plt.figure(figsize=(15, 4.6))
    outer = fig.add_gridspec(1, 3, wspace=0.3)
    left, middle = fig.add_subplot(outer[0]), fig.add_subplot(outer[1])
    if panels is not None:
        for k, (name, color) in enumerate(zip(panels.names, COLORS)):
            for ax, mean, std in ((left, panels.meta_acc_mean, panels.meta_acc_std),
                                  (middle, panels.target_prob_mean, panels.target_prob_std)):
                ax.plot(panels.epochs, mean[:, k], color=color, label=name)
                ax.fill_between(panels.epochs, np.clip(mean[:, k] - std[:, k], 0, 1),
                                np.clip(mean[:, k] + std[:, k], 0, 1), color=color, alpha=0.2)
        left.set(title=f"Meta-set accuracy ({panels.label})", xlabel="epoch", ylabel="accuracy")
        for ax in (left, middle):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        middle.set(title=f"Class label: target probability (mean ± std, {panels.n_seeds} seeds)", xlabel="epoch",
                   ylabel="target-class probability")
        left.legend(title="class")
        middle.legend(title="class")
    else:
        for ax in (left, middle):
            _note(ax, f"no class-label runs: {reasons.get('class', '')}")
    if examples is not None and examples[0]:
        items, names = examples
        # Room between an image and its bars for the class names (CIFAR-100's run to 13 characters, "aquarium_fish").
        longest = max((len(names[c]) for ex in items[:3] for c in ex.others), default=1)
        right = outer[2].subgridspec(3, 2, width_ratios=[1, 3], hspace=0.6, wspace=min(1.0, 0.15 + 0.06 * longest))
        for r, ex in enumerate(items[:3]):
            ax_img, ax_bar = fig.add_subplot(right[r, 0]), fig.add_subplot(right[r, 1])
            _show_image(ax_img, ex.image)
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
        _note(fig.add_subplot(outer[2]), f"no instance-label runs: {reasons.get('instance', '')}")
    caption(fig, groups or {})
    return _png(fig)


# ------------------------------------------------------------------------------------------------ figure 3


@dataclass
class CorrectedExample:
    index: int
    image: np.ndarray | None
    given: int
    true: int
    start: tuple[float, float]  # (p given, p true) at initialisation
    end: tuple[float, float]  # ... at the last epoch
    end_epoch: int


def corrected_examples(group: RunGroup, *, count: int = 4) -> tuple[list[CorrectedExample], list[str], int]:
    """Noisy training samples whose learned label's top class is the true class at the last epoch."""
    from repro.trajectory import instance_labels_at

    rd = group.runs[0]
    last = _epochs(rd)
    index, labels = instance_labels_at(rd, last)
    data = run_data(group.config)
    given = data.train_targets.numpy()[index]
    true = data.train_true_targets.numpy()[index]
    noisy = data.noisy_mask.numpy()[index]
    corrected = noisy & (labels.argmax(axis=1) == true)
    rows = np.flatnonzero(corrected)
    rows = rows[np.argsort(-labels[rows, true[rows]], kind="stable")][:count]
    num_classes = labels.shape[1]
    p0 = float(group.config["method"]["init_target_prob"])
    off = (1.0 - p0) / (num_classes - 1)
    names = class_names(group.config, num_classes)
    examples = [CorrectedExample(int(index[i]), _image(data, int(index[i])), int(given[i]), int(true[i]), (p0, off),
                                 (float(labels[i, given[i]]), float(labels[i, true[i]])), last)
                for i in rows]
    return examples, names, int(noisy.sum())


def render_figure3(examples: list[CorrectedExample], names: list[str], label: str, n_noisy: int,
                   group: RunGroup | None = None) -> bytes:
    fig, axes = plt.subplots(len(examples), 2, figsize=(7, 2.2 * len(examples)), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 2.5]})
    for (ax_img, ax_bar), ex in zip(axes, examples):
        _show_image(ax_img, ex.image)
        ax_img.set_title(f"given {names[ex.given]}, true {names[ex.true]}", fontsize=8)
        x = np.arange(2)
        ax_bar.bar(x - 0.2, [ex.start[0], ex.end[0]], 0.4, label=f"given: {names[ex.given]}", color="tab:red")
        ax_bar.bar(x + 0.2, [ex.start[1], ex.end[1]], 0.4, label=f"true: {names[ex.true]}", color="tab:green")
        for xi, (a, b) in zip(x, (ex.start, ex.end)):
            ax_bar.text(xi - 0.2, a, f"{a:.3f}", ha="center", va="bottom", fontsize=7)
            ax_bar.text(xi + 0.2, b, f"{b:.3f}", ha="center", va="bottom", fontsize=7)
        ax_bar.set_xticks(x, ["initialisation", f"last epoch ({ex.end_epoch})"])
        ax_bar.set_ylim(0, 1.1)
        ax_bar.set_ylabel("label probability", fontsize=8)
        ax_bar.legend(fontsize=7, loc="upper center")
    fig.suptitle(f"Noisy samples corrected by instance labels ({label}; {n_noisy} noisy training samples)",
                 fontsize=9)
    fig.tight_layout()
    if group is not None:
        caption(fig, {"runs (the examples are the first seed's)": group})
    return _png(fig)


# ------------------------------------------------------------------------------------------------ builders


def build_figure2(frame: pd.DataFrame, log: Callable[[str], Any], where: Mapping[str, str] | None = None) -> bytes:
    reasons: dict[str, str] = {}
    panels = examples = None
    groups: dict[str, RunGroup | None] = {"class labels": None, "instance labels": None}
    try:
        groups["class labels"] = pick_group(frame, labels="class", noisy=False, name="figure2/class", where=where)
        panels = class_panels(groups["class labels"])
    except Skip as exc:
        reasons["class"] = str(exc)
    try:
        groups["instance labels"] = pick_group(frame, labels="instance", noisy=False, name="figure2/instance",
                                               where=where)
        examples = instance_examples(groups["instance labels"])
    except Skip as exc:
        reasons["instance"] = str(exc)
    if panels is None and examples is None:
        raise Skip("; ".join(r.rstrip(".") for r in reasons.values()) + ".")
    for part, reason in reasons.items():
        log(f"Figure2: the {part}-label panel(s) are empty: {reason}")
    announce(log, "Figure2", groups)
    return render_figure2(panels, examples, reasons, groups)


def build_figure3(frame: pd.DataFrame, log: Callable[[str], Any], where: Mapping[str, str] | None = None) -> bytes:
    group = pick_group(frame, labels="instance", noisy=True, name="figure3", where=where)
    examples, names, n_noisy = corrected_examples(group)
    if not examples:
        raise Skip(f"no noisy training sample of {group.runs[0].run_id} ({n_noisy} noisy) has the true class as its "
                   "learned label's top class at the last epoch (train longer, or a larger method.label_lr).")
    announce(log, "Figure3", {"runs": group})
    return render_figure3(examples, names, group_label(group.config), n_noisy, group)
