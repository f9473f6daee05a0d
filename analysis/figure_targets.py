"""Distillation targets side by side (Sec. 3.4, the paper's argument for why learned labels distil better): for a
few training samples, label smoothing's targets (the same uniform mass on every other class), the one-hot teacher's
predictions, the instance-label teacher's predictions and the converged (fold-averaged) instance labels, on the same
classes: the sample's target and the four classes the converged labels give the most mass.

Runs used: a finished replay run of learned instance labels without noise, by the paper's selection (CIFAR-100,
ResNet18: Table 4's teacher; analysis/figure_select.py) or --where, its first seed (its network is the "Ours (Model)"
teacher, its fold-averaged labels at the last epoch are "Ours (Labels)"); a finished one-hot baseline run of the same
data, model, subset and seed if there is one (its panel is left out otherwise); epsilon from a finished label-
smoothing run of the same data, or the method's default. Samples: the three with the most converged mass off target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
import torch

from analysis.collect import DONE
from analysis.figure_common import announce
from analysis.figure_select import select_group
from repro.figures.common import COLORS, RunGroup, _image, _png, _show_image, caption, class_names, plt, run_data
from repro.runs.rundir import RunDir

SAMPLES = 3
CLASSES = 5
FLOOR = 1e-4  # the log axis' bottom: smaller probabilities are drawn at it


def _done(frame: pd.DataFrame, **equal: Any) -> pd.DataFrame:
    if frame.empty or "method.name" not in frame:
        return frame.iloc[0:0]
    rows = frame[frame["state"] == DONE]
    for key, value in equal.items():
        rows = rows[rows[key] == value] if key in rows else rows.iloc[0:0]
    return rows.sort_values(["seed", "run_id"]) if "seed" in rows else rows


def _source(frame: pd.DataFrame, where: Mapping[str, str] | None = None) -> RunGroup:
    finals = _done(frame, **{"method.name": "replay", "method.learn.method": "instance_labels"})
    if "noise.fraction" in finals:
        finals = finals[finals["noise.fraction"].fillna(0) == 0]
    what = (
        "finished replay runs of learned instance labels without noise (the final of a 5-fold 'Ours (Instance)' "
        "row, e.g. `repro sweep sweeps/table1.yaml`)"
    )
    return select_group(frame, "figure_targets", finals, what=what, where=where)


def _baseline(frame: pd.DataFrame, config: dict) -> RunDir | None:
    same = {
        "method.name": "baseline",
        "data.name": config["data"]["name"],
        "model.name": config["model"]["name"],
        "seed": config["seed"],
        "split.full_train": True,
    }
    rows = _done(frame, **same)
    subset = config["data"].get("subset")
    rows = rows[rows["data.subset"].isna()] if subset is None else rows[rows["data.subset"] == subset]
    return RunDir(Path(rows.iloc[0]["path"])) if len(rows) else None


def _epsilon(frame: pd.DataFrame, config: dict) -> float:
    rows = _done(frame, **{"method.name": "label_smoothing", "data.name": config["data"]["name"]})
    if len(rows):
        return float(rows.iloc[0]["method.epsilon"])
    from repro.config import load_config

    return float(load_config(["method=label_smoothing"]).method.epsilon)


def _predictions(rd: RunDir, data, index: np.ndarray) -> np.ndarray:
    from repro.data import BatchLoader
    from repro.runs.teachers import load_teacher

    model = load_teacher(rd, torch.device("cpu"))
    loader = BatchLoader(
        data.train.images,
        data.train_targets,
        torch.arange(len(data.train_targets)),
        batch_size=64,
        shuffle=False,
        augment=False,
        mean=data.train.mean,
        std=data.train.std,
        generator=None,
    )
    x, _, _ = loader.batch(torch.from_numpy(index))
    with torch.no_grad():
        return torch.softmax(model(x), dim=1).numpy()


def build_figure_targets(
    frame: pd.DataFrame, log: Callable[[str], Any], where: Mapping[str, str] | None = None
) -> bytes:
    from repro.labels.converged import converged_labels

    group = _source(frame, where)
    source = group.runs[0]
    announce(log, "Figure_targets", {"teacher and labels": group})
    config = source.read_config()
    data = run_data(config)
    labels = converged_labels(source, data.train_targets)[0].numpy()
    targets = data.train_targets.numpy()
    off_target = 1.0 - labels[np.arange(len(targets)), targets]
    index = np.argsort(-off_target, kind="stable")[:SAMPLES]
    num_classes = labels.shape[1]
    eps = _epsilon(frame, config)
    series = {f"label smoothing targets (eps={eps:g})": None}
    baseline = _baseline(frame, config)
    if baseline is None:
        log(
            "Figure_targets: no finished one-hot baseline run of the same data, model, subset and seed; its panel "
            "is left out."
        )
    else:
        series["one-hot teacher's predictions"] = _predictions(baseline, data, index)
    series["instance-label teacher's predictions"] = _predictions(source, data, index)
    series["converged instance labels"] = labels[index]
    names = class_names(config, num_classes)
    fig, axes = plt.subplots(
        SAMPLES, 2, figsize=(11, 2.6 * SAMPLES), gridspec_kw={"width_ratios": [1, 6]}, squeeze=False
    )
    width = 0.8 / len(series)
    for row, i in enumerate(index):
        y = int(targets[i])
        order = [c for c in np.argsort(-labels[i], kind="stable") if c != y][: CLASSES - 1]
        shown = [y, *order]
        _show_image(axes[row, 0], _image(data, int(i)))
        axes[row, 0].set_title(f"sample {int(i)}\ngiven: {names[y]}", fontsize=8)
        ax = axes[row, 1]
        for k, (name, values) in enumerate(series.items()):
            if values is None:  # label smoothing: (1 - eps) on the target, eps / C everywhere
                probs = np.array([(1 - eps) + eps / num_classes if c == y else eps / num_classes for c in shown])
            else:
                probs = values[row][shown]
            color = ("tab:gray", *COLORS, "tab:red")[k % 5]
            ax.bar(
                np.arange(len(shown)) + (k - (len(series) - 1) / 2) * width,
                np.maximum(probs, FLOOR),
                width,
                label=name,
                color=color,
            )
        ax.set_yscale("log")
        ax.set_ylim(FLOOR, 1.5)
        ax.set_xticks(range(len(shown)), [f"{names[c]}{' (target)' if c == y else ''}" for c in shown], fontsize=8)
        ax.set_ylabel("probability", fontsize=8)
        if row == 0:
            ax.legend(fontsize=7, ncol=2, loc="upper right")
    fig.suptitle(
        f"Distillation targets of {config['data']['name']} training samples ({config['model']['name']} "
        "teachers): label smoothing, the teachers' predictions and the converged instance labels",
        fontsize=9,
    )
    fig.tight_layout()
    caption(fig, {"teacher and labels (first seed)": group})
    return _png(fig)
