"""The end of a run's W&B page (repro/tracking/wandb_page.py): custom line-series charts built from the whole history
and the
run's label files, and PNG images (the run's own Figure 2 / Figure 4 panels, per-class heatmaps above 20 classes).
Called once, when the run is done; every call is guarded by the tracker (a failure warns, training is over)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from repro.labels.registry import Panel
from repro.labels.trajectory import read_class_trajectory, read_instance_topk, recorded_epochs
from repro.runs.io import atomic_write_bytes
from repro.tracking.wandb_page import CHART_NOISE, PER_CLASS, PageContext, figure2_classes, names_for, spot_classes


def end_charts(wandb: Any, history: list[Mapping[str, Any]], ctx: PageContext) -> dict[str, Any]:
    """The custom charts (and tables) of the run's page, built from its whole history and label files."""
    charts: dict[str, Any] = {}
    epochs = [int(r["epoch"]) for r in history]
    traj = _class_trajectory(ctx)
    for row_key, (_, title, chart) in PER_CLASS.items():
        acc = per_class_matrix(history, row_key)
        if acc is None:
            continue
        names = names_for(ctx.class_names, acc.shape[1])
        chosen = list(range(acc.shape[1]))
        if ctx.many_classes:
            chosen = (
                figure2_classes(traj)
                if traj is not None and traj.shape[1] == acc.shape[1]
                else spot_classes(acc.shape[1])
            )
            charts[f"tables/{chart}"] = wandb.Table(
                columns=["epoch", *names], data=[[e, *map(float, row)] for e, row in zip(epochs, acc)]
            )
        charts[f"charts/{chart}"] = _lines(
            wandb, epochs, [acc[:, c] for c in chosen], [names[c] for c in chosen], title, "accuracy"
        )
    if ctx.noisy and history and all(r.get("noisy_top1_corrected") is not None for r in history):
        series = {
            **{k: [r.get(k) for r in history] for k in CHART_NOISE if k != "label_accuracy_top1"},
            "label_accuracy_top1": [1.0 - r["label_noise_top1"] for r in history],
        }
        charts["charts/noise_correction"] = _lines(
            wandb, epochs, list(series.values()), [CHART_NOISE[k] for k in series], "Noise correction", "share"
        )
    if traj is not None:
        chosen = figure2_classes(traj) if ctx.many_classes else list(range(traj.shape[1]))
        charts["charts/class_target_prob"] = _lines(
            wandb,
            list(range(1, len(traj) + 1)),
            [traj[:, c] for c in chosen],
            [ctx.class_names[c] for c in chosen],
            "Class labels: target probability",
            "target probability",
        )
    if ctx.replay is not None and epochs:
        xs, per_class, overall = replayed_label_series(ctx, len(epochs))
        chosen = spot_classes(per_class.shape[1]) if ctx.many_classes else list(range(per_class.shape[1]))
        names = names_for(ctx.class_names, per_class.shape[1])
        charts["charts/class_target_prob"] = _lines(
            wandb,
            xs,
            [per_class[:, c] for c in chosen],
            [names[c] for c in chosen],
            "Replayed labels: mean given-class probability per class",
            "probability",
        )
        charts["charts/replayed_labels"] = _lines(
            wandb,
            xs,
            list(overall.T),
            ["given-class probability", "entropy (nats)"],
            "Replayed (fold-averaged) labels",
            "mean",
        )
    if Panel.TRACKED_SAMPLES in ctx.panels and ctx.instances:
        lines, keys, xs = _instance_lines(ctx)
        if lines:
            charts["charts/tracked_instance_labels"] = _lines(
                wandb, xs, lines, keys, "Tracked samples: given- and true-class probability", "label probability"
            )
    return charts


def per_class_matrix(history: list[Mapping[str, Any]], row_key: str) -> np.ndarray | None:
    """[E, C] per-class accuracy of every epoch, or None when some epoch lacks it (or classes differ)."""
    rows = [r.get(row_key) for r in history]
    if not rows or any(not r for r in rows) or len({len(r) for r in rows}) != 1:
        return None
    return np.array(rows, dtype=np.float64)


def replayed_label_series(ctx: PageContext, epochs: int, most: int = 50) -> tuple[list[int], np.ndarray, np.ndarray]:
    """A replay final's labels per epoch (at most `most` epochs, evenly spread): per class the mean probability its
    training samples' labels put on their given class [E, C], and overall [E, 2] (that mean, mean entropy)."""
    replay, (index, given) = ctx.replay, ctx.train_given
    xs = sorted({int(round(x)) for x in np.linspace(1, epochs, num=min(epochs, most))})
    num_classes = len(ctx.class_names)
    counts = torch.bincount(given, minlength=num_classes).clamp(min=1).double()
    per_class, overall = [], []
    for epoch in xs:
        source = replay.num_epochs - 1 if replay.static else min(epoch - 1, replay.num_epochs - 1)
        labels = torch.as_tensor(replay.trajectory(source)).double().cpu()[index]
        p_given = labels.gather(1, given.unsqueeze(1)).squeeze(1)
        per_class.append((torch.bincount(given, weights=p_given, minlength=num_classes) / counts).numpy())
        overall.append([float(p_given.mean()), float(torch.special.entr(labels).sum(1).mean())])
    return xs, np.stack(per_class), np.array(overall)


def _lines(wandb: Any, xs: list[int], ys: list[Any], keys: list[str], title: str, yname: str) -> Any:
    clean = [[None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in y] for y in ys]
    return wandb.plot.line_series(xs=list(xs), ys=clean, keys=list(keys), title=title, xname="epoch")


def _class_trajectory(ctx: PageContext) -> np.ndarray | None:
    if Panel.CLASS_CURVES not in ctx.panels or ctx.run_dir is None:
        return None

    return np.asarray(read_class_trajectory(ctx.run_dir), dtype=np.float64)


def _instance_lines(ctx: PageContext) -> tuple[list[list[float]], list[str], list[int]]:
    """Per tracked sample, its label's probability of the given class and (noisy samples) of the true class, per
    epoch, from the top-k records (NaN where the class is outside the top k)."""
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
    """PNG files for the page: a learned-label run's own Figure 2 / Figure 4 panels (repro/figures/ on this one run,
    the panels analysis/ draws for the paper's runs), and with many classes a heatmap of per-class meta accuracy."""
    images: dict[str, Path] = {}
    for name, png in _figure_pngs(ctx, history).items():
        images[f"figures/{name}"] = atomic_write_bytes(out_dir / f"{name}.png", png)
    return images


def _figure_pngs(ctx: PageContext, history: list[Mapping[str, Any]]) -> dict[str, bytes]:
    pngs: dict[str, bytes] = {}
    if ctx.panels:
        from repro.figures.common import RunGroup  # deferred: matplotlib is heavy, drawn for a run with figures only
        from repro.figures.figure2 import class_panels, instance_examples, render_figure2  # deferred: matplotlib
        from repro.figures.figure4 import noise_correction_curve, render_figure4  # deferred: matplotlib

        group = RunGroup([ctx.run_dir], ctx.config)
        if Panel.CLASS_CURVES in ctx.panels:
            pngs["figure2"] = render_figure2(class_panels(group), None, {"instance": "this run learns class labels"})
        elif Panel.INSTANCE_EXAMPLES in ctx.panels and not ctx.noisy:
            pngs["figure2"] = render_figure2(
                None, instance_examples(group), {"class": "this run learns instance labels"}
            )
        if Panel.NOISE_CORRECTION in ctx.panels and ctx.noisy:
            pngs["figure4"] = render_figure4(noise_correction_curve(group), group)
    if ctx.many_classes:
        for row_key, (_, title, chart) in PER_CLASS.items():
            acc = per_class_matrix(history, row_key)
            if acc is not None:
                pngs[f"{chart}_heatmap"] = _heatmap(acc, title)
    return pngs


def _heatmap(acc: np.ndarray, title: str) -> bytes:
    from repro.figures.common import plt, png_bytes  # deferred: matplotlib is heavy, drawn for a run with figures only

    fig, ax = plt.subplots(figsize=(10, 4))
    im = ax.imshow(
        acc.T,
        aspect="auto",
        origin="lower",
        cmap="viridis",
        vmin=0,
        vmax=1,
        extent=(0.5, len(acc) + 0.5, -0.5, acc.shape[1] - 0.5),
    )
    ax.set(xlabel="epoch", ylabel="class", title=title)
    fig.colorbar(im, ax=ax, label="accuracy")
    return png_bytes(fig)
