"""One run group's Figure 4 panels (PNG): how instance labels correct label noise over training. Left, label
accuracy over ALL training samples (the share whose learned label has the true class as its top-1 / among its
top-5: the paper's "33% noise at top-1", "top-5 from 65% to 90%"), from the per-epoch top-k label records and the
run's true classes (without the run's data the panel says why); right, the same over the NOISY samples only
(noisy_top1_corrected / noisy_top5_corrected, logged by the run). Epochs start at 1: at initialisation the true
class of a noisy sample ties with every other non-given class.

Why in the core: the W&B page of a noisy instance-label run draws it for that run (repro/tracking/wandb_charts.py);
analysis/figures/noise_correction.py picks the paper's runs and draws the same panels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.ticker import MaxNLocator

from repro.errors import UserError
from repro.figures.common import (
    NOISE_TOP1_KEY,
    NOISE_TOP5_KEY,
    RunGroup,
    Skip,
    caption,
    group_label,
    metrics_rows,
    note,
    plt,
    png_bytes,
    run_data,
)
from repro.labels.trajectory import read_instance_topk

__all__ = ["NoiseCurve", "label_accuracy", "noise_correction_curve", "render_figure4"]


@dataclass
class NoiseCurve:
    epochs: np.ndarray
    top1: np.ndarray  # [S, E] noisy samples only: the true class is the learned label's top-1 (logged by the run)
    top5: np.ndarray
    label: str
    all_top1: np.ndarray | None = None  # [S, E] every training sample (label accuracy), from the label records
    all_top5: np.ndarray | None = None
    given_acc: float | None = None  # the given labels' accuracy (1 - the actual noise rate) of the first seed
    all_missing: str = ""  # why the all-sample curves are absent


def noise_correction_curve(group: RunGroup) -> NoiseCurve:
    """Per epoch, one row per seed: the share of noisy training samples whose learned label has the true class as
    top-1 / in top-5 (logged by the run in metrics.jsonl), and the same over all training samples (the paper's
    "33% noise at top-1", "65% to 90% at top-5"), from the recorded top-k labels and the run's true classes."""
    curves = []
    for rd in group.runs:
        rows = metrics_rows(rd)
        if not rows or any(r.get(NOISE_TOP1_KEY) is None or r.get(NOISE_TOP5_KEY) is None for r in rows):
            raise Skip(
                f"run {rd.run_id} has no noise-correction rates ({NOISE_TOP1_KEY}, {NOISE_TOP5_KEY}) in "
                "every row of its metrics.jsonl; runs trained before they were recorded cannot be drawn."
            )
        curves.append(
            (np.array([r[NOISE_TOP1_KEY] for r in rows], float), np.array([r[NOISE_TOP5_KEY] for r in rows], float))
        )
    epochs = min(len(c[0]) for c in curves)
    curve = NoiseCurve(
        np.arange(1, epochs + 1),
        np.stack([c[0][:epochs] for c in curves]),
        np.stack([c[1][:epochs] for c in curves]),
        group_label(group.config),
    )
    try:
        accs = [label_accuracy(rd, epochs) for rd in group.runs]
    except UserError as exc:  # e.g. CIFAR is not available here: the noisy-only curves are still drawn
        curve.all_missing = f"label accuracy over all samples not drawn: {exc}"
        return curve
    curve.all_top1 = np.stack([a[0] for a in accs])
    curve.all_top5 = np.stack([a[1] for a in accs])
    curve.given_acc = accs[0][2]
    return curve


def label_accuracy(rd, epochs: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(top-1 [E], top-5 [E], given-label accuracy) of the run's learned labels over all its training samples
    against the true classes, from its per-epoch top-k records (sorted by probability; exact for k >= 5)."""
    data = run_data(rd.read_config())
    true = data.train_true_targets.numpy()
    top1, top5, given = [], [], None
    for epoch in range(1, epochs + 1):
        index, classes, _ = read_instance_topk(rd, epoch)
        t = true[index][:, None]
        top1.append(float((classes[:, :1] == t).any(axis=1).mean()))
        top5.append(float((classes[:, :5] == t).any(axis=1).mean()))
        if given is None:
            given = float((data.train_targets.numpy()[index] == true[index]).mean())
    return np.array(top1), np.array(top5), float(given)


def _band(ax, epochs, values, color, label, style="-") -> None:
    ddof = 1 if values.shape[0] > 1 else 0
    mean, std = values.mean(axis=0), values.std(axis=0, ddof=ddof)
    ax.plot(epochs, mean, style, color=color, label=label, marker="o" if len(epochs) < 20 else None)
    ax.fill_between(epochs, np.clip(mean - std, 0, 1), np.clip(mean + std, 0, 1), color=color, alpha=0.2)


def render_figure4(curve: NoiseCurve, group: RunGroup | None = None) -> bytes:
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4))
    if curve.all_top1 is not None:
        _band(left, curve.epochs, curve.all_top1, "tab:blue", "top-1 is the true class")
        _band(left, curve.epochs, curve.all_top5, "tab:orange", "true class in the top-5")
        if curve.given_acc is not None:
            left.axhline(
                curve.given_acc,
                color="gray",
                linestyle=":",
                linewidth=1,
                label=f"given labels ({curve.given_acc:.1%} correct)",
            )
        left.legend(fontsize=8)
    else:
        note(left, curve.all_missing)
    left.set(
        xlabel="epoch",
        ylabel="share of ALL training samples",
        ylim=(0, 1),
        title="Label accuracy: all training samples (the paper's Figure 4)",
    )
    _band(right, curve.epochs, curve.top1, "tab:blue", "top-1 is the true class")
    _band(right, curve.epochs, curve.top5, "tab:orange", "true class in the top-5")
    right.set(
        xlabel="epoch",
        ylabel="share of NOISY training samples",
        ylim=(0, 1),
        title="Noise correction: noisy training samples only",
    )
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(f"True class in the learned instance labels ({curve.label}, {curve.top1.shape[0]} seeds)")
    fig.tight_layout()
    if group is not None:
        caption(fig, {"runs": group})
    return png_bytes(fig)
