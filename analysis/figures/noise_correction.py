"""Figure 4 of the paper (PNG, headless): how instance labels correct label noise over training, for the runs the
paper's selection picks (analysis/figures/select.py: CIFAR-100 at 40% noise, the noisy tables' "Ours").

Two panels, titled so that neither is mistaken for the other: left, label accuracy over ALL training samples (the
share whose learned label has the true class as its top-1 / among its top-5), which is what the paper's "reaching
33% noise at top-1" and "top-5 from 65% to 90%" measure, read from the run's per-epoch top-k label records and its
true classes (so it needs the run's data; without it the panel says why); right, the same over the NOISY samples
only (noisy_top1_corrected / noisy_top5_corrected, logged by the run). Epochs start at 1: at initialisation the
true class of a noisy sample ties with every other non-given class.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import pandas as pd

from analysis.figures.common import announce, pick_group
from analysis.figures.figure import Chosen, FigureRuns, Log
from repro.figures.figure4 import NoiseCurve, label_accuracy, noise_correction_curve, render_figure4
from repro.labels.registry import Panel

__all__ = ["NoiseCurve", "build_figure4", "label_accuracy", "noise_correction_curve", "render_figure4"]


def build_figure4(frame: pd.DataFrame, log: Callable[[str], Any], where: Mapping[str, str] | None = None) -> bytes:
    group = pick_group(frame, panel=Panel.NOISE_CORRECTION, noisy=True, name="figure4", where=where)
    curve = noise_correction_curve(group)
    announce(log, "Figure4", {"runs": group})
    if curve.all_missing:
        log(f"Figure4: {curve.all_missing}")
    return render_figure4(curve, group)


def choose_figure4(runs: FigureRuns) -> Chosen:
    group = pick_group(runs.frame, panel=Panel.NOISE_CORRECTION, noisy=True, name="figure4", where=runs.where)
    return Chosen({"runs": [rd.run_id for rd in group.runs]}, group)


def draw_figure4(chosen: Chosen, log: Log) -> bytes:
    group = chosen.data
    curve = noise_correction_curve(group)
    announce(log, "Figure4", {"runs": group})
    if curve.all_missing:
        log(f"Figure4: {curve.all_missing}")
    return render_figure4(curve, group)
