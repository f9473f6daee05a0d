"""Figures 2-3 of the paper (PNG, headless; Figure 4 is analysis/figures/noise_correction.py): the learned labels
of finished class- and instance-label runs, from their directories.

Takes the figure's runs (analysis/figures/figure.py); gives the PNG. Each figure draws the cells it declares
(FIGURE2: Table 1's "Ours (Class)" fold-0 runs on CIFAR-100 / ResNet18 left and middle, its "Ours (Instance)"
right; FIGURE3: Table 6's "Ours (Instance labels)" on CIFAR-100 at 40% noise), picked as analysis/figures/select.py
says (the cell with the most finished seeds, the paper's "mean and std over three runs"; `repro figures --where`
moves it). Which runs were drawn is printed and written under the figure. A figure without suitable runs raises Skip
with the reason (analysis/figures/make.py prints it; the others still render).

Choices where the paper leaves room: Figure 2 shows the classes with the lowest, median and highest mean learned
target probability (the paper: "three random classes"), so the link between accuracy and smoothing is visible;
Figure 3 shows the corrected noisy samples with the highest true-class probability at convergence, and their
labels at initialisation (p0 on the given class, (1 - p0)/(C - 1) elsewhere) and at the last epoch.

Why this module: like noise_methods.py and targets.py, it holds its figures' cells, data and drawing;
analysis/figures/make.py only lists the figures and writes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.figures.common import announce, pick_group
from analysis.figures.figure import Cells, Chosen, FigureRuns, Log
from analysis.figures.noise_correction import NOISY_OURS
from repro.figures.common import (
    RunGroup,
    Skip,
    caption,
    class_names,
    group_label,
    last_recorded_epoch,
    plt,
    png_bytes,
    run_data,
    sample_image,
    show_image,
)
from repro.figures.figure2 import class_panels, instance_examples, render_figure2
from repro.labels.registry import Panel
from repro.labels.trajectory import instance_labels_at

# Figure 2: "ResNet18 for CIFAR100", Table 1's label-learning runs (fold 0 of the 5-fold protocol); class labels on
# the left and middle, instance labels without noise on the right.
FIGURE2 = {
    "class labels": Cells(1, ("Ours (Class)",), ("CIFAR100/ResNet18",), stages=("fold",), fold=0),
    "instance labels": Cells(1, ("Ours (Instance)",), ("CIFAR100/ResNet18",), stages=("fold",), fold=0),
}
FIGURE3 = {"runs": NOISY_OURS}  # the noisy tables' "Ours" at 40% noise on CIFAR-100, as Figure 4


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
    rd = group.runs[0]
    last = last_recorded_epoch(rd)
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
    examples = [
        CorrectedExample(
            int(index[i]),
            sample_image(data, int(index[i])),
            int(given[i]),
            int(true[i]),
            (p0, off),
            (float(labels[i, given[i]]), float(labels[i, true[i]])),
            last,
        )
        for i in rows
    ]
    return examples, names, int(noisy.sum())


def render_figure3(
    examples: list[CorrectedExample], names: list[str], label: str, n_noisy: int, group: RunGroup | None = None
) -> bytes:
    fig, axes = plt.subplots(
        len(examples), 2, figsize=(7, 2.2 * len(examples)), squeeze=False, gridspec_kw={"width_ratios": [1, 2.5]}
    )
    for (ax_img, ax_bar), ex in zip(axes, examples):
        show_image(ax_img, ex.image)
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
    fig.suptitle(f"Noisy samples corrected by instance labels ({label}; {n_noisy} noisy training samples)", fontsize=9)
    fig.tight_layout()
    if group is not None:
        caption(fig, {"runs (the examples are the first seed's)": group})
    return png_bytes(fig)


# ------------------------------------------------------------------------------------------------ choose, draw


def _ids(group: RunGroup | None) -> list[str]:
    return [rd.run_id for rd in group.runs] if group is not None else []


def choose_figure2(runs: FigureRuns) -> Chosen:
    """Class-label runs (left, middle) and instance-label runs (right) without noise; a part without runs is drawn
    empty with its reason, the figure is skipped when both are."""
    groups: dict[str, RunGroup | None] = {"class labels": None, "instance labels": None}
    reasons: dict[str, str] = {}
    for part, panel, name in (
        ("class labels", Panel.CLASS_CURVES, "figure2/class"),
        ("instance labels", Panel.INSTANCE_EXAMPLES, "figure2/instance"),
    ):
        try:
            groups[part] = pick_group(runs, name, FIGURE2[part], panel=panel, noisy=False)
        except Skip as exc:
            reasons[part.split()[0]] = str(exc)
    if all(g is None for g in groups.values()):
        raise Skip("; ".join(r.rstrip(".") for r in reasons.values()) + ".")
    return Chosen({part: _ids(g) for part, g in groups.items() if g is not None}, (groups, reasons))


def draw_figure2(chosen: Chosen, log: Log) -> bytes:
    groups, reasons = chosen.data
    panels = examples = None
    try:
        panels = class_panels(groups["class labels"]) if groups["class labels"] is not None else None
    except Skip as exc:
        reasons["class"] = str(exc)
    try:
        examples = instance_examples(groups["instance labels"]) if groups["instance labels"] is not None else None
    except Skip as exc:
        reasons["instance"] = str(exc)
    if panels is None and examples is None:
        raise Skip("; ".join(r.rstrip(".") for r in reasons.values()) + ".")
    for part, reason in reasons.items():
        log(f"Figure2: the {part}-label panel(s) are empty: {reason}")
    announce(log, "Figure2", groups)
    return render_figure2(panels, examples, reasons, groups)


def choose_figure3(runs: FigureRuns) -> Chosen:
    group = pick_group(runs, "figure3", FIGURE3["runs"], panel=Panel.NOISE_CORRECTION, noisy=True)
    return Chosen({"runs": _ids(group)}, group)


def draw_figure3(chosen: Chosen, log: Log) -> bytes:
    group = chosen.data
    examples, names, n_noisy = corrected_examples(group)
    if not examples:
        raise Skip(
            f"no noisy training sample of {group.runs[0].run_id} ({n_noisy} noisy) has the true class as its "
            "learned label's top class at the last epoch (train longer, or a larger method.label_lr)."
        )
    announce(log, "Figure3", {"runs": group})
    return render_figure3(examples, names, group_label(group.config), n_noisy, group)
