"""The ledger (analysis/ledger/build.py) as Markdown and CSV: one line per claim and column, then one line per claim
the runs cannot answer."""

from __future__ import annotations

import math

import pandas as pd
from tabulate import tabulate

from analysis.ledger.build import Ledger
from analysis.ledger.intervals import CONFIDENCE, NONE
from analysis.tables.model import DDOF

NOT_IN_RUNS = "not in the runs"
CSV_COLUMNS = [
    "table",
    "claim",
    "better_row",
    "worse_row",
    "column",
    "worse_column",
    "metric",
    "paper_diff",
    "paper",
    "ours_better_mean",
    "ours_worse_mean",
    "ours_diff",
    "ci_low",
    "ci_high",
    "interval",
    "n_better",
    "n_worse",
    "n_pairs",
    "verdict",
    "says",
    "note",
]


def ledger_frame(ledger: Ledger) -> pd.DataFrame:
    """The CSV form: the answered claims (one row per claim and column), then those the runs cannot answer."""
    records = [
        {
            "table": e.claim.table,
            "claim": e.claim.name,
            "better_row": e.claim.better_row,
            "worse_row": e.claim.worse_row,
            "column": e.column,
            "worse_column": e.worse_column,
            "metric": e.metric,
            "paper_diff": round(e.paper.value, 4),
            "paper": e.paper.text(),
            "ours_better_mean": round(e.better.mean, 4),
            "ours_worse_mean": round(e.worse.mean, 4),
            "ours_diff": round(e.ours.diff, 4),
            "ci_low": _round(e.ours.low),
            "ci_high": _round(e.ours.high),
            "interval": e.ours.test,
            "n_better": e.ours.n_better,
            "n_worse": e.ours.n_worse,
            "n_pairs": e.ours.n_pairs,
            "verdict": e.verdict,
            "says": e.claim.text,
            "note": "",
        }
        for e in ledger.entries
    ]
    records += [
        {"table": m.claim.table, "claim": m.claim.name, "better_row": m.claim.better_row,
         "worse_row": m.claim.worse_row, "verdict": NOT_IN_RUNS, "says": m.claim.text, "note": m.reason}
        for m in ledger.missing
    ]  # fmt: skip
    counts = {"n_better": "Int64", "n_worse": "Int64", "n_pairs": "Int64"}  # empty, not NaN, where not answered
    return pd.DataFrame.from_records(records, columns=CSV_COLUMNS).astype(counts)


def render_csv(ledger: Ledger) -> str:
    return ledger_frame(ledger).to_csv(index=False, lineterminator="\n")


def ledger_table(ledger: Ledger) -> str:
    """The answered claims as a Markdown table (what the demo's summary prints)."""
    rows = [
        [
            e.claim.table,
            e.claim.name,
            e.column,
            e.paper.text(),
            f"{e.ours.diff:+.2f}",
            e.ours.interval_text(),
            e.ours.seeds_text(),
            "" if e.ours.test == NONE else e.ours.test,
            e.verdict,
        ]
        for e in ledger.entries
    ]
    headers = ["Table", "Claim", "Column", "Paper Δ", "Ours Δ", f"{CONFIDENCE:.0%} CI", "Seeds", "Interval", "Verdict"]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def missing_lines(ledger: Ledger) -> list[str]:
    return [f"- Table {m.claim.table}, {m.claim.name}: {m.reason}." for m in ledger.missing]


def render_markdown(ledger: Ledger) -> str:
    expansions = "; ".join(f"Table {n}: {text}" for n, text in ledger.expansions.items())
    lines = [
        "# The paper's claims in our runs",
        "",
        "Each claim is a comparison the paper makes (paper_tables/claims.csv): the better row minus the worse, in "
        "percentage points of the table's metric. Paper Δ: the published difference in the same column, or, for a "
        "column the paper does not print, the mean over the claim's paper columns (their range beside it). Ours Δ: "
        "over the cells' finished reported runs (stage single/final), as `repro tables` averages them; "
        f"{CONFIDENCE:.0%} CI: a t-interval over seeds, paired by seed where both cells share at least two seeds "
        f"(on the per-seed differences, sd with ddof={DDOF}), else Welch's; with one seed on a side there is none. "
        "Verdict: sign reproduced (the interval excludes 0 on the paper's side), not significant (it contains 0), "
        "opposite (it excludes 0 on the other side), one seed: no interval.",
        "",
        f"Runs: {ledger.source or 'run frame'}. Sweep files: {ledger.sweeps or 'given'}."
        + (f" Expanded with {expansions}." if expansions else ""),
        "",
    ]
    lines += [ledger_table(ledger)] if ledger.entries else ["No claim has finished runs on both sides here."]
    if ledger.missing:
        lines += ["", "Not in these runs:", "", *missing_lines(ledger)]
    return "\n".join(lines) + "\n"


def _round(x: float) -> float:
    return math.nan if math.isnan(x) else round(x, 4)
