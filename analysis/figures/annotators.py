"""Figures of the learned-labels-vs-annotators analysis (analysis/tables/annotators.py has the numbers):

- `figure_annotator_entropy`: the learned label's entropy against the annotators' disagreement (how many distinct
  labels the three annotators gave: 1, 2 or 3), one box per level, a panel per label set: learned labels that spread
  their mass where people disagree rise from left to right;
- `figure_annotator_roc`: ROC curves of detecting the mislabelled training images (given ≠ clean) by the learned
  label's given-class probability and by its top-1 differing from the given label (a point), against the
  one-hot-trained network's training loss and cleanlab's continuous label-quality score on out-of-sample
  probabilities (from the run's cross-validation fold runs, where they exist; its find_label_issues set as a marker
  on that curve) and, dotted, on the network's own in-sample softmax.

Takes the figure's runs (analysis/figures/figure.py); gives the PNG. Each panel (a label set) draws one run per method
(the lowest seed) of the cells of Tables 14 and 15 (CELLS) from its `annotators.npz`
(repro/labels/annotator_agreement.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve

from analysis.figures.figure import Cells, Chosen, FigureRuns, Log
from analysis.tables.annotators import annotator_runs
from repro.figures.common import Skip, plt, png_bytes
from repro.labels.annotator_agreement import out_of_sample_cleanlab

FILE = "annotators.npz"
RUN_PATH = "run_path"  # not an array: where the run is (its fold runs are its siblings)


# The learned labels against the annotators: CIFAR-N's (sweeps/cifar_n.yaml, table 14) and the digits demo's
# simulated annotators (sweeps/demo/table15.yaml), every row and column of whichever the sweeps directory has.
CELLS = {"CIFAR-N": Cells(14), "simulated annotators": Cells(15)}


def _done(runs: FigureRuns) -> pd.DataFrame:
    frames = [runs.done(cells) for cells in CELLS.values()]
    return pd.concat([f for f in frames if len(f)]) if any(len(f) for f in frames) else runs.frame.iloc[0:0]


def _first_runs(frame: pd.DataFrame, *, learned: bool | None) -> dict[str, list[tuple[str, dict]]]:
    """{label set: [(method, arrays of its lowest-seed run)]}, runs with (learned=True) / without learned labels."""
    runs = annotator_runs(frame)
    if runs.empty:
        raise Skip(
            "no finished runs with several annotators per image (noise=cifar_n on CIFAR-10N, or noise=annotators)."
        )
    if learned is not None and "annot_tv_learned" in runs:
        runs = runs[runs["annot_tv_learned"].notna() == learned]
    elif learned:
        runs = runs.iloc[0:0]
    out: dict[str, list[tuple[str, dict]]] = {}
    for (label_set, method), group in runs.sort_values("seed").groupby(["label_set", "method.name"], sort=True):
        path = Path(str(group.iloc[0]["path"])) / FILE
        if path.exists():
            with np.load(path) as f:
                arrays = {k: f[k] for k in f.files}
            out.setdefault(str(label_set), []).append((str(method), {**arrays, RUN_PATH: str(path.parent)}))
    return out


def _run_ids(panels: dict[str, list[tuple[str, dict]]]) -> dict[str, list[str]]:
    return {label_set: [Path(a[RUN_PATH]).name for _, a in runs] for label_set, runs in panels.items()}


def choose_entropy(runs: FigureRuns) -> Chosen:
    """Per label set, the lowest-seed run of each method with learned labels."""
    panels = _first_runs(_done(runs), learned=True)
    if not panels:
        raise Skip(
            "no finished runs with learned labels and several annotators per image (e.g. "
            "method=instance_labels noise=annotators)."
        )
    return Chosen(_run_ids(panels), panels)


def choose_roc(runs: FigureRuns) -> Chosen:
    """Per label set, the lowest-seed run of each method, with and without learned labels."""
    frame = _done(runs)
    learned, fixed = _first_runs(frame, learned=True), _first_runs(frame, learned=False)
    label_sets = sorted(set(learned) | set(fixed))
    if not label_sets:
        raise Skip("no annotators.npz in the finished runs with several annotators per image.")
    ids = {s: _run_ids(learned).get(s, []) + _run_ids(fixed).get(s, []) for s in label_sets}
    return Chosen(ids, (learned, fixed))


def draw_entropy(chosen: Chosen, log: Log) -> bytes:
    panels = chosen.data
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    for ax, (label_set, runs) in zip(axes[0], sorted(panels.items())):
        method, arrays = runs[0]
        distinct = np.array([len(set(row)) for row in arrays["votes"].tolist()])
        levels = [lvl for lvl in (1, 2, 3) if (distinct == lvl).any()]
        ax.boxplot([arrays["learned_entropy"][distinct == lvl] for lvl in levels], showfliers=False)
        names = [f"{lvl} label{'s' if lvl > 1 else ''}\n(n={int((distinct == lvl).sum())})" for lvl in levels]
        ax.set_xticks(range(1, len(levels) + 1), names)
        ax.set_xlabel("distinct labels among the 3 annotators")
        ax.set_ylabel("learned-label entropy (nats)")
        ax.set_title(f"{label_set}\n{method}", fontsize=9)
    fig.tight_layout()
    log(f"Figure_annotator_entropy: {', '.join(sorted(panels))}")
    return png_bytes(fig)


def draw_roc(chosen: Chosen, log: Log) -> bytes:
    learned, fixed = chosen.data
    label_sets = sorted(set(learned) | set(fixed))
    fig, axes = plt.subplots(1, len(label_sets), figsize=(4.2 * len(label_sets), 4.0), squeeze=False)
    for ax, label_set in zip(axes[0], label_sets):
        for method, arrays in learned.get(label_set, []):
            wrong = arrays["given"] != arrays["clean"]
            fpr, tpr, _ = roc_curve(wrong, -arrays["learned_given_prob"])
            ax.plot(fpr, tpr, label=f"{method}: learned given-class prob.")
            flagged = arrays["learned_top1_differs"].astype(bool)
            false_pos = (flagged & ~wrong).sum() / max((~wrong).sum(), 1)
            ax.plot(
                [false_pos],
                [(flagged & wrong).sum() / max(wrong.sum(), 1)],
                "o",
                label=f"{method}: learned top-1 ≠ given",
            )
        for method, arrays in fixed.get(label_set, []):
            wrong = arrays["given"] != arrays["clean"]
            fpr, tpr, _ = roc_curve(wrong, arrays["loss"])
            ax.plot(fpr, tpr, "--", label=f"{method}: training loss")
            found = out_of_sample_cleanlab(arrays[RUN_PATH])
            if found is not None:
                fpr, tpr, _ = roc_curve(wrong, found["score"])
                ax.plot(fpr, tpr, "-.", label=f"{method}: cleanlab, {found['folds']}-fold out-of-sample")
                flagged = found["flagged"]  # find_label_issues' yes/no set: one point
                ax.plot([(flagged & ~wrong).sum() / max((~wrong).sum(), 1)], [found["recall"]], "x", color="black")
            if "cleanlab" in arrays:
                fpr, tpr, _ = roc_curve(wrong, arrays["cleanlab"])
                ax.plot(fpr, tpr, ":", label=f"{method}: cleanlab, in-sample (fallback)")
        ax.plot([0, 1], [0, 1], color="grey", linewidth=0.5)
        ax.set_xlabel("false positive rate (correct labels flagged)")
        ax.set_ylabel("true positive rate (mislabelled found)")
        ax.set_title(label_set, fontsize=9)
        ax.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    log(f"Figure_annotator_roc: {', '.join(label_sets)}")
    return png_bytes(fig)
