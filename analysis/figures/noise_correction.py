"""Figure 4 of the paper (PNG, headless): how instance labels correct label noise over training. Takes the figure's
runs (analysis/figures/figure.py); gives the PNG of the cell FIGURE4 declares (Table 6's "Ours (Instance labels)" on
CIFAR-100 at 40% noise), picked as analysis/figures/select.py says.

Two panels, titled so that neither is mistaken for the other: left, label accuracy over ALL training samples (the
share whose learned label has the true class as its top-1 / among its top-5), which is what the paper's "reaching
33% noise at top-1" and "top-5 from 65% to 90%" measure, read from the run's per-epoch top-k label records and its
true classes (so it needs the run's data; without it the panel says why); right, the same over the NOISY samples
only (noisy_top1_corrected / noisy_top5_corrected, logged by the run). Epochs start at 1: at initialisation the
true class of a noisy sample ties with every other non-given class.
"""

from __future__ import annotations

from analysis.figures.common import announce, pick_group
from analysis.figures.figure import Cells, Chosen, FigureRuns, Log
from repro.figures.figure4 import noise_correction_curve, render_figure4
from repro.labels.registry import Panel

# "CIFAR100 in the 40% noise setting": the noisy tables' "Ours" (Table 6, setting A: uniform noise, WRN-28-10, the
# entropy curriculum at its default readings), the setting the paper's text turns to right after Figure 4.
NOISY_OURS = Cells(6, ("Ours (Instance labels)",), ("CIFAR100/40%",))
FIGURE4 = {"runs": NOISY_OURS}


def choose_figure4(runs: FigureRuns) -> Chosen:
    group = pick_group(runs, "figure4", FIGURE4["runs"], panel=Panel.NOISE_CORRECTION, noisy=True)
    return Chosen({"runs": [rd.run_id for rd in group.runs]}, group)


def draw_figure4(chosen: Chosen, log: Log) -> bytes:
    group = chosen.data
    curve = noise_correction_curve(group)
    announce(log, "Figure4", {"runs": group})
    if curve.all_missing:
        log(f"Figure4: {curve.all_missing}")
    return render_figure4(curve, group)
