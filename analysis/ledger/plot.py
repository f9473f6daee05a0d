"""The ledger as a forest plot (PNG): one panel per table, each on its own scale (Table 6's differences are tens of
points, Table 8's tenths), one row per claim and column: ours with the interval its judge reads (coloured by the
verdict's tone), the paper's contrast with its own interval just below it (black), 0 dashed and, for a comparable
claim, its margin shaded."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt

from analysis.ledger.build import Ledger
from analysis.ledger.fields import interval_confidence
from repro.claims.judgement import Line
from repro.claims.verdicts import EQUIVALENCE, LEVEL
from repro.figures.common import DPI, drawn_png_bytes, note  # headless matplotlib (Agg)

TONES = {"agrees": "tab:green", "short": "tab:olive", "open": "tab:gray", "against": "tab:red"}
TONE_WORDS = {
    "agrees": "ours agrees with the paper",
    "short": "ours smaller than the paper's",
    "open": "undecided at these seeds",
    "against": "ours against the paper",
}
OFFSET = 0.28  # the paper's marker sits this far below ours


def ledger_png(ledger: Ledger) -> bytes:
    if not ledger.lines:
        fig, ax = plt.subplots(figsize=(8.5, 2.0), dpi=DPI)
        note(ax, "No claim has finished runs in every cell in " + (ledger.source or "these runs") + ".")
        return drawn_png_bytes(fig)
    panels: dict[tuple[int, str], list[Line]] = {}
    for line in ledger.lines:
        panels.setdefault((line.claim.table, line.unit), []).append(line)
    heights = [len(lines) + 1.2 for lines in panels.values()]
    height = 1.3 + 0.42 * sum(heights)
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(10, height), dpi=DPI, gridspec_kw={"height_ratios": heights}, squeeze=False
    )
    shown: set[str] = set()
    for ax, ((table, unit), lines) in zip(axes[:, 0], panels.items()):
        _panel(ax, table, unit, lines, shown)
    handles, labels = [], []
    for ax in axes[:, 0]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    top = 1.0 - 1.0 / height  # an inch for the title and the legend
    fig.suptitle("The paper's claims in our runs: ours (coloured) beside the paper's (black)", fontsize=10,
                 y=1.0 - 0.15 / height)  # fmt: skip
    fig.legend(handles, labels, loc="upper center", ncol=3, fontsize=7, frameon=False,
               bbox_to_anchor=(0.5, 1.0 - 0.4 / height))  # fmt: skip
    fig.tight_layout(rect=(0, 0, 1, top))
    return drawn_png_bytes(fig)


def _panel(ax, table: int, unit: str, lines: list[Line], shown: set[str]) -> None:
    ys = list(range(len(lines)))[::-1]
    for y, line in zip(ys, lines):
        ours, tone = line.ours, line.verdict.tone
        label = TONE_WORDS[tone]
        if line.judge is EQUIVALENCE and line.claim.margin:
            ax.fill_between([-line.claim.margin, line.claim.margin], y - 0.45, y + 0.45, color="tab:blue", alpha=0.08)
        if ours.has_interval:
            low, high = ours.interval(interval_confidence(line))
            ax.plot([low, high], [y, y], color=TONES[tone], linewidth=2.5, solid_capstyle="butt")
        ax.plot([ours.diff], [y], "o", color=TONES[tone], label=None if label in shown else label)
        shown.add(label)
        _paper(ax, line, y - OFFSET, shown)
    if any(line.judge is not LEVEL for line in lines):  # a level has no 0 to be judged against
        ax.axvline(0.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_yticks(ys, [f"{line.claim.name} | {line.anchor}" for line in lines], fontsize=7)
    ax.set_ylim(-0.9, len(lines) - 0.3)
    ax.set_title(f"Table {table} ({unit})", fontsize=8, loc="left")
    ax.grid(axis="x", alpha=0.3)
    ax.tick_params(axis="x", labelsize=7)


def _paper(ax, line: Line, y: float, shown: set[str]) -> None:
    value = line.paper.value
    if value is None:
        return
    estimate = line.paper_estimate
    if estimate is not None and estimate.has_interval:
        low, high = estimate.interval(interval_confidence(line))
        if math.isfinite(low):
            ax.plot([low, high], [y, y], color="black", linewidth=1.0)
    label = "the paper's (its interval from its mean ± std)"
    ax.plot([value], [y], "D", markerfacecolor="none", markeredgecolor="black", markersize=4,
            label=None if label in shown else label)  # fmt: skip
    shown.add(label)
