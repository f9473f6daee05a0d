"""The ledger's intervals as a PNG: one line per claim and column, ours with its 95% interval (coloured by the
verdict), the paper's difference marked, and zero."""

from __future__ import annotations

import matplotlib.pyplot as plt

from analysis.ledger.build import Ledger
from analysis.ledger.intervals import CONFIDENCE, NOT_SIGNIFICANT, ONE_SEED, OPPOSITE, SIGN_REPRODUCED
from repro.figures.common import note, png_bytes  # headless matplotlib (Agg)

COLOURS = {SIGN_REPRODUCED: "tab:green", NOT_SIGNIFICANT: "tab:gray", OPPOSITE: "tab:red", ONE_SEED: "tab:orange"}


def ledger_png(ledger: Ledger) -> bytes:
    entries = ledger.entries
    fig, ax = plt.subplots(figsize=(8.5, 1.4 + 0.36 * max(len(entries), 2)))
    if not entries:
        note(ax, "No claim has finished runs on both sides in " + (ledger.source or "these runs") + ".")
        return png_bytes(fig)
    ys = list(range(len(entries)))[::-1]
    shown: set[str] = set()
    for y, entry in zip(ys, entries):
        verdict, ours = entry.verdict, entry.ours
        colour = COLOURS[verdict]
        if ours.has_interval:
            ax.plot([ours.low, ours.high], [y, y], color=colour, linewidth=2.5, solid_capstyle="butt")
        ax.plot([ours.diff], [y], "o", color=colour, label=None if verdict in shown else f"ours: {verdict}")
        shown.add(verdict)
        ax.plot([entry.paper.value], [y], "D", markerfacecolor="none", markeredgecolor="black",
                label=None if "paper" in shown else "paper's difference")  # fmt: skip
        shown.add("paper")
    ax.axvline(0.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_yticks(ys, [f"T{e.claim.table} {e.claim.name} | {e.column}" for e in entries], fontsize=8)
    ax.set_ylim(-0.8, len(entries) - 0.2)
    ax.set_xlabel(f"better row − worse row (percentage points); ours with its {CONFIDENCE:.0%} interval over seeds")
    ax.set_title("The paper's claims in our runs", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    ax.grid(axis="x", alpha=0.3)
    return png_bytes(fig)
