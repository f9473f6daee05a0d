"""What the ledger shows of one line (repro/claims/judgement.py's Line), as numbers for the CSV and as text for the
Markdown table: the paper's contrast with its own interval and significance, ours with the interval its judge uses,
ours over the paper's, whether the paper's value lies inside ours, the seeds, what they could detect and how many
would decide the paper's contrast, and the verdict with the line's notes."""

from __future__ import annotations

import math
from typing import Any

from repro.claims.judgement import Line
from repro.claims.stats import ALPHA, CONFIDENCE, MAX_SEEDS, PAIRED
from repro.claims.verdicts import EQUIVALENCE, LEVEL


def interval_confidence(line: Line) -> float:
    """The interval its judge reads: 90% for two one-sided 5% tests, else 95%."""
    return 1.0 - 2.0 * ALPHA if line.judge is EQUIVALENCE else CONFIDENCE


def line_values(line: Line) -> dict[str, Any]:
    """The CSV's numbers (NaN / empty where there are none)."""
    ours, paper = line.ours, line.paper
    low, high = ours.interval(interval_confidence(line))
    paper_est = line.paper_estimate
    p_low, p_high = paper_est.interval(interval_confidence(line)) if paper_est else (math.nan, math.nan)
    paired, welch = line.paired, line.welch
    value = paper.value
    return {
        "paper_diff": _round(value),
        "paper_ci_low": _round(p_low),
        "paper_ci_high": _round(p_high),
        "paper_significant": "" if line.paper_significant is None else line.paper_significant,
        "ours_diff": _round(ours.diff),
        "ci_low": _round(low),
        "ci_high": _round(high),
        "ci_level": round(interval_confidence(line), 4),
        "interval": str(ours.design),
        "floored": ours.floored,
        "ours_over_paper": _round(ours.diff / value) if value else math.nan,
        "paper_inside": "" if value is None or not ours.has_interval else bool(low <= value <= high),
        "n_per_cell": "/".join(str(s.n) for s in line.samples),
        "n_shared": ours.n_shared if ours.design is PAIRED else len(_shared(line)),
        "paired_low": _round(paired.interval(interval_confidence(line))[0]) if paired else math.nan,
        "paired_high": _round(paired.interval(interval_confidence(line))[1]) if paired else math.nan,
        "welch_low": _round(welch.interval(interval_confidence(line))[0]),
        "welch_high": _round(welch.interval(interval_confidence(line))[1]),
        "detectable": _round(line.detectable),
        "seeds_from_paper_spread": _seeds(line, ours=False),
        "seeds_from_our_spread": _seeds(line, ours=True),
        "p_value": _round(line.p_value, 6),
        "verdict": str(line.verdict),
        "other_design_verdict": str(line.other_verdict or ""),
        "notes": "; ".join(line.notes),
    }


def line_texts(line: Line) -> dict[str, str]:
    """The Markdown table's cells (accuracy in points to 2 decimals, a recorded measure in its own unit to 3)."""
    ours, paper = line.ours, line.paper
    d = 2 if line.unit in ("points", "%") else 3
    low, high = ours.interval(interval_confidence(line))
    paper_est = line.paper_estimate
    value = paper.value
    if paper_est is not None:
        p_low, p_high = paper_est.interval(interval_confidence(line))
        sig = {True: "yes", False: "no", None: ""}[line.paper_significant]
        paper_ci = f"[{p_low:+.{d}f}, {p_high:+.{d}f}] {sig}"
    else:
        paper_ci = "no std printed" if value is not None and line.judge is not LEVEL else ""
    sign = "" if line.judge is LEVEL else "+"
    interval = f"[{low:{sign}.{d}f}, {high:{sign}.{d}f}]" if ours.has_interval else ""
    if interval and line.judge is EQUIVALENCE:
        interval += f" 90%, margin ±{line.claim.margin:g}"
    if interval and ours.floored:
        interval += " ≥1 image"
    inside = "" if value is None or not ours.has_interval else ("yes" if low <= value <= high else "no")
    ratio = f"{ours.diff / value:.2f}" if value else ""
    verdict = str(line.verdict)
    if line.other_verdict is not None:
        verdict += f" ({line.other.design}: {line.other_verdict})" if line.other else ""
    if line.notes:
        verdict += "; " + "; ".join(line.notes)
    return {
        "paper": paper.text(signed=line.judge is not LEVEL),
        "paper_ci": paper_ci,
        "ours": f"{ours.diff:+.{d}f}" if line.judge is not LEVEL else f"{ours.diff:.{d}f}",
        "interval": interval,
        "ratio": ratio,
        "inside": inside,
        "seeds": line.seeds_text(),
        "design": "" if not ours.has_interval else str(ours.design),
        "detectable": "" if math.isnan(line.detectable) else f"{line.detectable:.{d}f}",
        "needed": f"{_seeds(line, ours=False) or '-'} / {_seeds(line, ours=True) or '-'}",
        "verdict": verdict,
    }


def overlap_note(line: Line) -> str:
    """A line whose cells do not all have the same seeds: what the pairs alone give (never silent)."""
    if not line.partial_overlap:
        return ""
    shared = _shared(line)
    paired = line.paired
    cells = ", ".join(f"{c.row} / {c.column}: seeds {', '.join(map(str, c.sample.seeds))}" for c in line.cells)
    pairs = ""
    if paired is not None and paired.has_interval:
        low, high = paired.interval()
        pairs = f"; paired over the {len(shared)} shared seeds alone: {paired.diff:+.2f} [{low:+.2f}, {high:+.2f}]"
    return (
        f"Table {line.claim.table}, {line.claim.name} / {line.anchor}: the cells' seeds differ ({cells}); the line "
        f"is Welch's over every run{pairs}."
    )


def _shared(line: Line) -> list[Any]:
    common = set.intersection(*(set(s.seeds) for s in line.samples)) if line.samples else set()
    return [s for s in line.samples[0].seeds if s in common] if line.samples else []


def _seeds(line: Line, ours: bool) -> str:
    if line.paper.value is None or line.judge is LEVEL:
        return ""
    if line.judge is EQUIVALENCE and line.claim.margin is not None and abs(line.paper.value) >= line.claim.margin:
        return "never"  # the paper's own contrast is outside the margin
    needed = line.seeds_for_paper(ours)
    if needed is None:
        return "" if line.model(ours) is None else f">{MAX_SEEDS}"
    return str(needed)


def _round(value: float | None, digits: int = 4) -> float:
    return math.nan if value is None or math.isnan(value) else round(value, digits)
