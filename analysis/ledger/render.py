"""The ledger (analysis/ledger/build.py) as Markdown and CSV: the headline, one line per claim (its verdict across
its columns, Holm's adjusted p), one line per claim and column, per table the interval's design and what a seed
redraws, then the claims the runs cannot answer."""

from __future__ import annotations

import math

import pandas as pd
from tabulate import tabulate

from analysis.ledger.build import Ledger
from analysis.ledger.fields import line_texts, line_values, overlap_note
from analysis.ledger.variance import why_fixed
from repro.claims.judgement import headline
from repro.claims.stats import POWER
from repro.claims.verdicts import LEVEL

NOT_IN_RUNS = "not in the runs"
UNPRINTED = (
    "A claim of a table no paper prints (Lukasik et al.'s, on our Tables 11-13: their result tables could not be "
    "reached) has no paper number: its Paper Δ is empty, and its lines are judged on their sign (a gain) or their "
    "margin (comparable) alone."
)
LINE_HEADERS = [
    "Table",
    "Claim",
    "Column",
    "Paper Δ",
    "Paper's CI, significant",
    "Ours Δ",
    "CI",
    "Ours ÷ paper",
    "Paper Δ in CI",
    "Seeds",
    "Interval",
    f"Detectable ({POWER:.0%})",
    "Seeds for paper Δ (its spread / ours)",
    "Verdict",
]


def ledger_frame(ledger: Ledger) -> pd.DataFrame:
    """The CSV form: one row per claim and column, then one per claim (or its columns) the runs cannot answer."""
    by_claim = {(j.claim.table, j.claim.name): j for j in ledger.claims}
    records = []
    for line in ledger.lines:
        claim = by_claim[(line.claim.table, line.claim.name)]
        records.append(
            {
                "table": line.claim.table,
                "claim": line.claim.name,
                "kind": line.claim.kind.name,
                "column": line.anchor,
                "cells": "; ".join(f"{'+' if c.sample.coef > 0 else '-'}{c.row} | {c.column}" for c in line.cells),
                "paper": line.paper.text(signed=line.judge is not LEVEL),
                **line_values(line),
                "claim_verdict": claim.verdict,
                "claim_p": _round(claim.p_value),
                "claim_p_holm": _round(claim.p_adjusted),
                "claim_holds_after_holm": "" if claim.holds is None else claim.holds,
                "claim_holds_why": claim.holds_text(),
                "seeds_redraw": ledger.seeds[line.claim.table].text() if line.claim.table in ledger.seeds else "",
                "sequential": ledger.line_sequential.get((line.claim.table, line.claim.name, line.anchor), ""),
                "says": line.claim.says,
                "missing": "",
            }
        )
    records += [
        {"table": m.claim.table, "claim": m.claim.name, "kind": m.claim.kind.name, "verdict": NOT_IN_RUNS,
         "says": m.claim.says, "missing": m.reason}
        for m in ledger.missing
    ]  # fmt: skip
    return pd.DataFrame.from_records(records)


def render_csv(ledger: Ledger) -> str:
    return ledger_frame(ledger).to_csv(index=False, lineterminator="\n")


def claims_table(ledger: Ledger) -> str:
    rows = [
        [
            j.claim.table,
            j.claim.name,
            j.claim.kind.name,
            len(j.lines),
            j.verdict,
            "" if math.isnan(j.p_adjusted) else f"{j.p_adjusted:.3g}",
            j.holds_text(),
        ]
        for j in ledger.claims
    ]
    headers = ["Table", "Claim", "Kind", "Columns", "Verdict", "Holm p", "Holds after Holm"]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def lines_table(ledger: Ledger) -> str:
    rows = []
    for line in ledger.lines:
        t = line_texts(line)
        rows.append(
            [
                line.claim.table,
                line.claim.name,
                line.anchor,
                t["paper"],
                t["paper_ci"],
                t["ours"],
                t["interval"],
                t["ratio"],
                t["inside"],
                t["seeds"],
                t["design"],
                t["detectable"],
                t["needed"],
                t["verdict"],
            ]
        )
    return tabulate(rows, headers=LINE_HEADERS, tablefmt="github", disable_numparse=True)


def table_lines(ledger: Ledger) -> list[str]:
    """Per table: which lines take which interval design and why, and what its seeds redraw."""
    out = []
    for number in sorted(set(ledger.designs) | set(ledger.seeds)):
        _, why = ledger.designs.get(number, (None, ""))
        seeds = ledger.seeds.get(number)
        parts = [f"intervals {why}" if why else "", seeds.text().rstrip(".") if seeds else ""]
        if number in ledger.sequential:  # `repro sweep --until-decided` added seeds where lines were undecided
            parts.append(f"seeds added until decided, {ledger.sequential[number]} (docs/sequential-seeds.md)")
        out.append(f"- Table {number}: " + "; ".join(p for p in parts if p) + ".")
    return out


def missing_lines(ledger: Ledger) -> list[str]:
    return [f"- Table {m.claim.table}, {m.claim.name}: {m.reason}." for m in ledger.missing]


def render_markdown(ledger: Ledger) -> str:
    expansions = "; ".join(f"Table {n}: {text}" for n, text in ledger.expansions.items())
    lines = [
        "# The paper's claims in our runs",
        "",
        headline(ledger.claims, ledger.lines) if ledger.lines else "No claim has finished runs in every cell here.",
        "",
        "Each claim (paper_tables/claims.csv) contrasts cells of one table: a gain (better row minus worse), an "
        "interaction (a difference of two gains), a comparable pair (two one-sided tests against its declared "
        "margin) or a quantity the runs record. Ours: over the cells' finished reported runs, as `repro tables` "
        "averages them; CI 95% (90% for a comparable pair), no spread below one test image. Paper's CI: from its "
        "printed mean ± std over its 3 runs, and whether that excludes 0 (or shows equivalence) by the same rule. "
        f"Detectable: the smallest contrast our seeds find with {POWER:.0%} power (comparable: the smallest "
        'margin they show). How each verdict is reached: docs/tables.md, "The ledger".'
        + (f" {UNPRINTED}" if any(not line.claim.paper_prints for line in ledger.lines) else ""),
        "",
        f"Runs: {ledger.source or 'run frame'}. Sweep files: {ledger.sweeps or 'given'}."
        + (f" Expanded with {expansions}." if expansions else ""),
        "",
    ]
    if ledger.lines:
        lines += ["## Claims", "", claims_table(ledger), "", "## Lines", "", lines_table(ledger), ""]
        lines += ["## Per table: the interval's design and what a seed redraws", "", *table_lines(ledger)]
        reasons = why_fixed(list(ledger.seeds.values()))
        if reasons:
            lines += ["", "Why the sweeps leave these fixed:", "", *(f"- {r}" for r in reasons)]
        notes = [n for n in (overlap_note(line) for line in ledger.lines) if n]
        if notes:
            lines += ["", "Seeds that differ between a line's cells:", "", *(f"- {n}" for n in notes)]
    if ledger.missing:
        lines += ["", "## Not in these runs", "", *missing_lines(ledger)]
    return "\n".join(lines) + "\n"


def printed_summary(ledger: Ledger) -> list[str]:
    """What `repro ledger` and `repro demo` print: the headline, the claims and the lines."""
    if not ledger.lines:
        return []
    return [headline(ledger.claims, ledger.lines), claims_table(ledger), lines_table(ledger), *table_lines(ledger)]


def _round(value: float) -> float:
    return math.nan if math.isnan(value) else round(value, 6)
