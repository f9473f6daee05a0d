"""Memorisation of label noise per epoch, method beside method (Lukasik et al., ICML 2020: smoothing shrinks the
logits, which tempers the memorisation of wrong labels). `figure_memorisation.png`.

One row of panels per noise rate, one column per key of repro/recorders/memorisation.py (memorised_noisy,
recovered_noisy, clean_train_acc, confidence, logit_norm) against the epoch; one line per method: one-hot, label
smoothing at each fixed epsilon, label smearing, the loss corrections and instance labels (a tuned method: its tuned
runs; tuning runs are not results). Lines are means over seeds.

Takes the figure's runs (analysis/figures/figure.py); gives the PNG. Runs: the finished runs with uniform label noise
of every cell of Table 12 (CELLS; on digits, `repro demo --extra`'s sweeps/demo/table12.yaml) whose metrics.jsonl
holds the keys. The setting (everything but method and seed: analysis/figures/smoothing_noise.SETTING) with the most
such runs is drawn; `--where key=value` narrows the runs first (e.g. `--where noise.fraction=0.4`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from analysis.figures.figure import Cells, Chosen, FigureRuns, Log
from analysis.figures.smoothing_noise import noisy_runs, tuned
from repro.figures.common import Skip, plt, png_bytes
from repro.recorders.memorisation import MEMORISATION_KEYS
from repro.runs.rundir import RunDir

NAME = "figure_memorisation"
CELLS = {"runs": Cells(12)}  # the noisy label-smoothing comparison (sweeps/table12.yaml): every row and column
TITLES = {
    "memorised_noisy": "noisy samples: predicted as given (wrong) label",
    "recovered_noisy": "noisy samples: predicted as true label",
    "clean_train_acc": "clean training samples: accuracy",
    "confidence": "mean max-probability (training set)",
    "logit_norm": "mean logit L2 norm (training set)",
}


def method_label(rec: Mapping[str, Any]) -> str | None:
    """The line a run belongs to, from its config; None: the run is a tuning run (not a result)."""
    name = str(rec.get("method.name"))
    is_tuned = bool(rec.get("_tuned"))
    if name == "baseline":
        return "one-hot"
    if name == "label_smoothing":
        return None if is_tuned else f"smoothing eps={float(rec.get('method.epsilon')):g}"
    if name == "label_smearing":
        member = str(rec.get("method.smearing"))
        return (
            f"smearing eps={float(rec.get('method.smoothing_epsilon')):g}"
            if member == "smoothing"
            else f"smearing {member}"
        )
    if name == "loss_correction":
        return f"{rec.get('method.correction')}, {rec.get('method.transition')} T"
    if name == "instance_labels":
        return "instance labels" if is_tuned or not rec.get("_method_tuned") else None
    return name


def _recorded(runs: pd.DataFrame) -> dict[str, list[tuple[str, list[dict]]]]:
    """line label -> (run id, metrics rows) of each of its runs that recorded memorisation."""
    runs = runs.assign(_tuned=tuned(runs).to_numpy())
    tuned_methods = set(runs.loc[runs["_tuned"], "method.name"])
    out: dict[str, list[tuple[str, list[dict]]]] = {}
    for rec in runs.to_dict("records"):
        rec["_method_tuned"] = rec["method.name"] in tuned_methods
        label = method_label(rec)
        if label is None or not rec.get("path"):
            continue
        rows = RunDir(Path(rec["path"])).read_metrics()
        if rows and MEMORISATION_KEYS[0] in rows[0]:
            out.setdefault(label, []).append((str(rec["run_id"]), rows))
    return out


def _histories(runs: pd.DataFrame) -> dict[str, list[list[dict]]]:
    """line label -> the metrics rows of each of its runs that recorded memorisation."""
    return {label: [rows for _, rows in found] for label, found in _recorded(runs).items()}


def _mean_curve(histories: list[list[dict]], key: str) -> tuple[np.ndarray, np.ndarray]:
    epochs = min(len(h) for h in histories)
    values = np.array([[float(r.get(key, np.nan)) for r in h[:epochs]] for h in histories], dtype=float)
    return np.arange(1, epochs + 1), np.nanmean(values, axis=0)


def _order(label: str) -> tuple:
    kinds = ("one-hot", "smoothing", "smearing", "forward", "backward", "instance")
    kind = next((i for i, k in enumerate(kinds) if label.startswith(k)), len(kinds))
    try:
        eps = float(label.split("eps=")[1]) if "eps=" in label else 0.0
    except ValueError:
        eps = 0.0
    return kind, eps, label


def render(panels: Mapping[float, dict[str, list[list[dict]]]], title: str) -> bytes:
    fractions = sorted(panels)
    fig, axes = plt.subplots(
        len(fractions),
        len(MEMORISATION_KEYS),
        squeeze=False,
        figsize=(3.6 * len(MEMORISATION_KEYS), 3.0 * len(fractions) + 0.8),
    )
    labels = sorted({label for lines in panels.values() for label in lines}, key=_order)
    cmap = plt.get_cmap("tab20")
    colours = {label: cmap(i % 20) for i, label in enumerate(labels)}
    handles: dict[str, Any] = {}
    for row, fraction in enumerate(fractions):
        for col, key in enumerate(MEMORISATION_KEYS):
            ax = axes[row][col]
            for label in labels:
                if label not in panels[fraction]:
                    continue
                x, y = _mean_curve(panels[fraction][label], key)
                style = "--" if label.startswith(("forward", "backward", "smearing")) else "-"
                (handles[label],) = ax.plot(x, y, style, color=colours[label], linewidth=1.4)
            ax.set_title(f"{fraction:.0%} noise: {key}", fontsize=9)
            ax.set_xlabel("epoch", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
        axes[row][0].set_ylabel("share / value", fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0.0, 0.08, 1.0, 0.97))
    fig.legend(
        list(handles.values()),
        list(handles),
        loc="lower center",
        ncol=min(6, len(handles)),
        fontsize=8,
        bbox_to_anchor=(0.5, 0.0),
    )
    return png_bytes(fig)


def choose(runs: FigureRuns) -> Chosen:
    """The noisy runs that recorded memorisation, of the setting with the most of them; a panel per noise rate."""
    missing = runs.missing_file(CELLS["runs"])
    if missing:
        raise Skip(f"{missing}, whose runs it draws.")
    where = runs.where
    noisy = noisy_runs(runs.done(CELLS["runs"]))
    for key, value in (where or {}).items():
        noisy = noisy[noisy[key].astype(str) == str(value)] if key in noisy else noisy.iloc[0:0]
    if noisy.empty:
        raise Skip("no finished runs with uniform label noise" + (" matching --where" if where else "") + ".")
    per_setting = {s: _recorded(group) for s, group in noisy.groupby("setting", sort=True)}
    counts = {s: sum(len(v) for v in h.values()) for s, h in per_setting.items()}
    setting = max(sorted(counts), key=lambda s: counts[s])
    if counts[setting] == 0:
        raise Skip(
            "no noisy run recorded memorisation (metrics.jsonl without memorised_noisy: runs made before it "
            "existed; `repro demo --extra` makes new ones)."
        )
    chosen = noisy[noisy["setting"] == setting]
    panels = {float(f): _recorded(group) for f, group in chosen.groupby(pd.to_numeric(chosen["noise.fraction"]))}
    panels = {f: lines for f, lines in panels.items() if lines}
    ids = [rid for lines in panels.values() for found in lines.values() for rid, _ in found]
    return Chosen({"runs": ids}, (panels, setting))


def draw(chosen: Chosen, log: Log) -> bytes:
    recorded, setting = chosen.data
    panels = {
        f: {label: [rows for _, rows in found] for label, found in lines.items()} for f, lines in recorded.items()
    }
    data, model, subset, _, epochs = setting[:5]
    log(
        f"{NAME} draws {data}, {model}, {epochs} epochs: "
        + "; ".join(
            f"{f:.0%} noise: "
            + ", ".join(f"{k} ({len(v)})" for k, v in sorted(lines.items(), key=lambda kv: _order(kv[0])))
            for f, lines in sorted(panels.items())
        )
    )
    title = (
        f"Memorisation of label noise per epoch: {data}, {model}, {epochs} epochs"
        + (f", {subset} training samples" if subset not in ("None", "nan") else "")
        + " (means over seeds)"
    )
    return render(panels, title)
