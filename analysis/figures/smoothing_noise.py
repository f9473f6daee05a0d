"""Label smoothing under label noise (sweeps/table12.yaml, its digits version sweeps/demo/table12.yaml): final test
accuracy against label smoothing's epsilon, one panel per noise rate, with the one-hot baseline at epsilon = 0 and
the learned instance labels, loss correction (forward / backward, known / estimated T) and label smoothing with its
epsilon tuned on validation (sweeps/table12.yaml's "Label Smoothing (tuned)" row) as horizontal reference lines of
the same setting. `figure_smoothing_noise.png`. The curve is the fixed-epsilon runs only: a tuned run (its
`tune.keys` set, repro/sweep/stages/tune/tuning.py) trained the epsilon its tuning runs chose, so it would count one
point
twice. A reference line of a tuned method (the instance labels) is its tuned runs only, not its tuning runs.

Takes the figure's runs (analysis/figures/figure.py); gives the PNG. Runs: the finished runs with uniform label noise
of every cell of Table 12 (CELLS). A setting is everything but the method and the seed (data set, model, subset,
epochs, split, noise); the setting with the most label-smoothing runs is drawn (one data set of the paper-scale
sweep's two), every noise rate of it a panel, so that the curve and its reference lines compare like with like.
Points and lines are means over seeds (bars and bands: the sample std where there are two seeds or more).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.collect import DONE
from analysis.figures.figure import Cells, Chosen, FigureRuns, Log
from repro.figures.common import Skip, plt, png_bytes

NAME = "figure_smoothing_noise"
CELLS = {"runs": Cells(12)}  # every row and column of the noisy label-smoothing comparison (sweeps/table12.yaml)
METRIC = "final_test_acc"
# Columns that make a setting (beside the noise rate, which makes the panel); the method's keys and the seed do not.
SETTING = (
    "data.name",
    "model.name",
    "data.subset",
    "data.test_subset",
    "optim.epochs",
    "split.meta_fraction",
    "split.full_train",
    "noise.kind",
    "noise.seed",
)
# (label, selection of runs, colour, line style) of the reference lines
REFERENCES = (
    ("instance labels", {"method.name": "instance_labels"}, "tab:purple", "-"),
    (
        "forward, known T",
        {"method.name": "loss_correction", "method.correction": "forward", "method.transition": "known"},
        "tab:green",
        "--",
    ),
    (
        "backward, known T",
        {"method.name": "loss_correction", "method.correction": "backward", "method.transition": "known"},
        "tab:red",
        "--",
    ),
    (
        "forward, estimated T",
        {"method.name": "loss_correction", "method.correction": "forward", "method.transition": "estimated"},
        "tab:green",
        ":",
    ),
    (
        "backward, estimated T",
        {"method.name": "loss_correction", "method.correction": "backward", "method.transition": "estimated"},
        "tab:red",
        ":",
    ),
)


def noisy_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """Finished runs with uniform noise and a test accuracy, with a hashable `setting` column."""
    need = {"state", "method.name", "noise.kind", "noise.fraction", METRIC}
    if frame.empty or not need <= set(frame.columns):
        return frame.iloc[0:0]
    done = frame[
        (frame["state"] == DONE)
        & (frame["noise.kind"] == "uniform")
        & (pd.to_numeric(frame["noise.fraction"], errors="coerce") > 0)
    ].copy()
    done = done[pd.to_numeric(done[METRIC], errors="coerce").notna()]
    done["setting"] = [tuple(str(rec.get(k)) for k in SETTING) for rec in done.to_dict("records")]
    return done


def tuned(runs: pd.DataFrame) -> pd.Series:
    """Which runs took a tuned key's value from tuning runs (their `tune.keys` is not empty)."""
    if "tune.keys" not in runs:
        return pd.Series(False, index=runs.index)
    return runs["tune.keys"].map(lambda keys: isinstance(keys, (tuple, list)) and len(keys) > 0).astype(bool)


def reported(runs: pd.DataFrame) -> pd.DataFrame:
    """A reference line's runs: the tuned ones where the method was tuned (what the table reports; its tuning runs,
    one per grid point, are not results), else all of them."""
    is_tuned = tuned(runs)
    return runs[is_tuned] if is_tuned.any() else runs


def pick_setting(runs: pd.DataFrame) -> tuple:
    smoothing = runs[runs["method.name"] == "label_smoothing"]
    if smoothing.empty:
        raise Skip(
            "no finished label_smoothing runs with uniform label noise (sweeps/demo/table12.yaml makes them: "
            "`repro demo --extra`)."
        )
    return smoothing["setting"].value_counts().sort_index(kind="stable").idxmax()


def _stats(values: pd.Series) -> tuple[float, float, int]:
    vals = 100.0 * pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    std = float(np.std(vals, ddof=1)) if len(vals) > 1 else math.nan
    return (float(vals.mean()) if len(vals) else math.nan), std, len(vals)


def _select(runs: pd.DataFrame, where: dict[str, str]) -> pd.DataFrame:
    mask = pd.Series(True, index=runs.index)
    for key, value in where.items():
        mask &= (runs[key] == value) if key in runs else False
    return runs[mask]


def curve_runs(runs: pd.DataFrame) -> list[tuple[float, pd.DataFrame]]:
    """(epsilon, its runs) of the panel's curve: the label-smoothing runs at fixed epsilons, label smearing's
    smoothing member (method=label_smearing: negative epsilons too) and the one-hot baseline at epsilon = 0."""
    points = []
    smoothing = runs[(runs["method.name"] == "label_smoothing") & ~tuned(runs)]
    for eps, group in smoothing.groupby(pd.to_numeric(smoothing["method.epsilon"], errors="coerce")):
        points.append((float(eps), group))
    if "method.smearing" in runs:  # label smearing's smoothing member: any epsilon, negative ones included
        smearing = runs[(runs["method.name"] == "label_smearing") & (runs["method.smearing"] == "smoothing")]
        for eps, group in smearing.groupby(pd.to_numeric(smearing["method.smoothing_epsilon"], errors="coerce")):
            points.append((float(eps), group))
    baseline = runs[runs["method.name"] == "baseline"]
    if len(baseline):
        points.append((0.0, baseline))
    return points


def curve(runs: pd.DataFrame) -> pd.DataFrame:
    """epsilon -> (mean, std, n) of the panel's curve (curve_runs)."""
    rows = [(eps, *_stats(group[METRIC])) for eps, group in curve_runs(runs)]
    return pd.DataFrame(rows, columns=["epsilon", "mean", "std", "n"]).sort_values("epsilon")


def reference_runs(panel: pd.DataFrame) -> list[tuple[str, pd.DataFrame, str, str]]:
    """(label, reported runs, colour, line style) of the panel's reference lines."""
    lines = [(label, _select(panel, where), color, style) for label, where, color, style in REFERENCES]
    tuned_smoothing = panel[(panel["method.name"] == "label_smoothing") & tuned(panel)]
    lines.append(("label smoothing, tuned epsilon", tuned_smoothing, "tab:blue", "-."))
    return [(label, reported(chosen), color, style) for label, chosen, color, style in lines]


def panels(runs: pd.DataFrame) -> list[tuple[float, pd.DataFrame]]:
    """(noise rate, its runs): a panel each."""
    fractions = sorted(pd.to_numeric(runs["noise.fraction"]).unique())
    return [(fraction, runs[pd.to_numeric(runs["noise.fraction"]) == fraction]) for fraction in fractions]


def drawn_runs(runs: pd.DataFrame) -> dict[str, list[str]]:
    """The runs each line draws (the curve's points, each reference line), over the panels."""
    drawn: dict[str, list[str]] = {}
    for _, panel in panels(runs):
        for _, group in curve_runs(panel):
            drawn.setdefault("label smoothing curve", []).extend(group["run_id"])
        for label, chosen, _, _ in reference_runs(panel):
            if len(chosen):
                drawn.setdefault(label, []).extend(chosen["run_id"])
    return drawn


def render(runs: pd.DataFrame, setting: tuple) -> bytes:
    by_fraction = panels(runs)
    fig, axes = plt.subplots(1, len(by_fraction), figsize=(4.2 * len(by_fraction), 3.8), squeeze=False)
    handles: dict[str, Any] = {}
    for ax, (fraction, panel) in zip(axes[0], by_fraction):
        points = curve(panel)
        line = ax.errorbar(
            points["epsilon"], points["mean"], yerr=points["std"].fillna(0.0), marker="o", color="tab:blue", capsize=3
        )
        handles["label smoothing (epsilon = 0: one-hot)"] = line
        for label, chosen, color, style in reference_runs(panel):
            mean, std, n = _stats(chosen[METRIC])
            if n == 0:
                continue
            handles[label] = ax.axhline(mean, color=color, linestyle=style, linewidth=1.5)
            if not math.isnan(std):
                ax.axhspan(mean - std, mean + std, color=color, alpha=0.08)
        ax.set_title(f"{fraction:.0%} uniform noise")
        ax.set_xlabel("label smoothing epsilon")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("final test accuracy (%)")
    data, model, subset, _, epochs = setting[:5]
    fig.suptitle(
        f"Label smoothing under label noise: {data}, {model}, {epochs} epochs"
        + (f", {subset} training samples" if subset not in ("None", "nan") else ""),
        fontsize=11,
    )
    fig.tight_layout(rect=(0.0, 0.13, 1.0, 1.0))  # room below the panels for the legend
    fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=3, fontsize=8, bbox_to_anchor=(0.5, 0.0))
    return png_bytes(fig)


def choose(runs: FigureRuns) -> Chosen:
    """Table 12's uniform-noise runs of the setting with the most label-smoothing runs (every noise rate a panel)."""
    missing = runs.missing_file(CELLS["runs"])
    if missing:
        raise Skip(f"{missing}, whose runs it draws.")
    noisy = noisy_runs(runs.done(CELLS["runs"]))
    if noisy.empty:
        raise Skip("no finished runs with uniform label noise in table 12's cells.")
    setting = pick_setting(noisy)
    chosen = noisy[noisy["setting"] == setting]
    return Chosen(drawn_runs(chosen), (chosen, setting))


def draw(chosen: Chosen, log: Log) -> bytes:
    runs, setting = chosen.data
    for label, where, _, _ in REFERENCES:
        if _select(runs, where).empty:
            log(f"{NAME}: no finished {label} runs in the drawn setting; its reference line is left out.")
    return render(runs, setting)
