"""Distillation targets side by side (Sec. 3.4, the paper's argument for why learned labels distil better): for a
few training samples, label smoothing's targets (the same uniform mass on every other class), the one-hot teacher's
predictions, the instance-label teacher's predictions and the converged (fold-averaged) instance labels, on the same
classes: the sample's target and the four classes the converged labels give the most mass.

Takes the figure's runs (analysis/figures/figure.py); gives the PNG. Runs used (`CELLS`): the replay run of Table 1's
"Ours (Instance)" on CIFAR-100 / ResNet18 (Table 4's teacher; analysis/figures/select.py picks the cell, `--where`
moves it), its first seed: its network is the "Ours (Model)" teacher, its fold-averaged labels at the last epoch are
"Ours (Labels)"; Table 1's Baseline run of the same column and seed (its panel is left out without one); epsilon
from Table 2's Label Smoothing run of the same column and seed, or the method's default. Samples: the three with
the most converged mass off target.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from analysis.figures.common import announce
from analysis.figures.figure import Cells, Chosen, FigureRuns, Log
from analysis.figures.select import select_group
from analysis.sweeps import STAGES
from repro.config import load_config
from repro.data.loader import BatchLoader
from repro.figures.common import (
    COLORS,
    caption,
    class_names,
    plt,
    png_bytes,
    run_data,
    sample_image,
    show_image,
)
from repro.labels.converged import converged_labels
from repro.runs.rundir import RunDir
from repro.runs.teachers import load_teacher

SAMPLES = 3
CLASSES = 5
FLOOR = 1e-4  # the log axis' bottom: smaller probabilities are drawn at it


# Table 4's teachers: Table 1's learned instance labels (the replay run: dynamic labels) and one-hot baseline, and
# Table 2's label smoothing, on CIFAR-100 / ResNet18.
CELLS = {
    "teacher and labels": Cells(1, ("Ours (Instance)",), ("CIFAR100/ResNet18",), stages=("final",)),
    "baseline": Cells(1, ("Baseline",), ("CIFAR100/ResNet18",)),
    "label smoothing": Cells(2, ("Label Smoothing",), ("CIFAR100/ResNet18",)),
}


def _beside(runs: FigureRuns, part: str, column: str, seed: int) -> dict | None:
    """The finished run of `part`'s cells in the teacher's column, of the teacher's seed (None: none)."""
    found = [c for c in runs.cell_runs(CELLS[part], columns=(column,)) if c.done and c.planned.seed == seed]
    return found[0].run if found else None


def _epsilon(smoothing: dict | None) -> float:
    """The label-smoothing run's epsilon, or the method's default."""
    if smoothing is not None:
        return float(smoothing["method.epsilon"])

    return float(load_config(["method=label_smoothing"]).method.epsilon)


def _predictions(rd: RunDir, data, index: np.ndarray) -> np.ndarray:
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


def choose(runs: FigureRuns) -> Chosen:
    """The teacher and labels (the first seed's replay run), the one-hot teacher and the label-smoothing run (whose
    epsilon the first series uses) of the same column and seed."""
    what = "finished replay runs of learned instance labels without noise (the final of a 5-fold 'Ours (Instance)' row)"
    group = select_group(runs, "figure_targets", CELLS["teacher and labels"], what=what, usable=_without_noise)
    source = group.runs[0]
    column, seed = _cell_of(runs, source.run_id)
    baseline = _beside(runs, "baseline", column, seed)
    smoothing = _beside(runs, "label smoothing", column, seed)
    parts = {
        "teacher and labels": [source.run_id],
        "baseline": [baseline["run_id"]] if baseline is not None else [],
        "label smoothing": [smoothing["run_id"]] if smoothing is not None else [],
    }
    baseline_dir = RunDir(Path(baseline["path"])) if baseline is not None else None
    return Chosen({part: ids for part, ids in parts.items() if ids}, (group, baseline_dir, _epsilon(smoothing)))


def _cell_of(runs: FigureRuns, run_id: str) -> tuple[str, int]:
    """(column, seed) the teacher's run was planned at (select_group chose it among these plans)."""
    planned = next(
        c.planned
        for c in runs.cell_runs(CELLS["teacher and labels"], columns=(), stages=STAGES, fold=None)
        if c.planned.run_id == run_id
    )
    return planned.column, int(planned.seed)


def _without_noise(rd: RunDir, config: dict) -> bool:
    return not float((config.get("noise") or {}).get("fraction") or 0.0)


def draw(chosen: Chosen, log: Log) -> bytes:
    group, baseline, eps = chosen.data
    source = group.runs[0]
    announce(log, "Figure_targets", {"teacher and labels": group})
    config = source.read_config()
    data = run_data(config)
    labels = converged_labels(source, data.train_targets)[0].numpy()
    targets = data.train_targets.numpy()
    off_target = 1.0 - labels[np.arange(len(targets)), targets]
    index = np.argsort(-off_target, kind="stable")[:SAMPLES]
    num_classes = labels.shape[1]
    series = {f"label smoothing targets (eps={eps:g})": None}
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
        show_image(axes[row, 0], sample_image(data, int(i)))
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
    return png_bytes(fig)
