"""A claim judged on runs: each line (one anchor column) from its cells' per-seed values, its interval's design, one
verdict per claim across its columns, and the headline count with Holm's correction.

The design is fixed before any result is read, by what the runs share (`Line.design`): a line is paired where its
cells have the same seeds (at least two) and, at each seed, each cell's run shares a draw that seed makes with
another cell's run (their initialisation, batch order, split, noise pattern or data set; repro/claims/pairing.py
reads which from the runs' configs), and Welch's otherwise. Why: pairing removes what a seed gives every cell alike,
which only a draw the cells' runs share can give; runs that share none are independent, and Welch's interval is the
one made for them. Choosing instead whichever interval is narrower on the data it judges picks the paired one when
its spread happens to come out small, and its intervals then hold the truth less often than they say (91-94% for the
95% paired intervals so chosen: benchmarks/ledger_coverage.py). A line whose cells do not all have the same seeds
takes Welch's interval over every run, and says how the seeds overlap (the paired interval over the shared seeds
beside it), so no run is dropped silently. Where the two designs' verdicts differ, the line shows both.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Sequence

from repro.claims.claim import Claim, PaperDifference
from repro.claims.decision import LineModel, estimated_model
from repro.claims.pairing import choose_design
from repro.claims.sequential_record import LineRecord
from repro.claims.stats import (
    NO_INTERVAL,
    PAIRED,
    WELCH,
    CellSample,
    Design,
    Estimate,
    holm,
    paired_estimate,
    shared_seeds,
    welch_estimate,
)
from repro.claims.verdicts import NOT_YET_DECIDED, Judge, Verdict


@dataclass(frozen=True)
class LineCell:
    """A cell of a line: where it is, its runs (`sample`) and what identifies them (run ids)."""

    row: str
    column: str
    sample: CellSample
    runs: tuple[str, ...] = ()


@dataclass
class Line:
    """One claim in one of our columns."""

    claim: Claim
    anchor: str
    cells: tuple[LineCell, ...]
    paper: PaperDifference
    judge: Judge
    floor: float  # one test image (or the measure's resolution), in the metric's units
    notes: list[str] = field(default_factory=list)  # like for like: recipe, tuning, stand-in rows
    shared_draws: tuple[str, ...] = ()  # what the cells' runs of one seed share (repro/claims/pairing.py)
    unit: str = "points"  # of the contrast: percentage points of accuracy, or a recorded measure's unit
    sequential: LineRecord | None = None  # what `repro sweep --until-decided` recorded of it (its sweep folder's)

    @property
    def samples(self) -> list[CellSample]:
        return [c.sample for c in self.cells]

    @property
    def full_overlap(self) -> bool:
        """Every cell has the same seeds, at least two of them."""
        shared = shared_seeds(self.samples)
        return len(shared) >= 2 and all(len(s.seeds) == len(shared) for s in self.samples)

    @property
    def partial_overlap(self) -> bool:
        """Some seeds are in every cell, and some cell has a seed the others lack."""
        shared = set(shared_seeds(self.samples))
        return len(self.cells) > 1 and bool(shared) and any(set(s.seeds) != shared for s in self.samples)

    @property
    def design(self) -> Design:
        """Paired where the cells have the same seeds and their runs of one seed share a draw, else Welch (the rule
        in this module's docstring): decided by the runs' configs before any of their results is read."""
        return choose_design(len(self.cells), self.full_overlap, self.shared_draws)

    @cached_property
    def paired(self) -> Estimate | None:
        return paired_estimate(self.samples, self.floor) if len(self.cells) > 1 else None

    @cached_property
    def welch(self) -> Estimate:
        return welch_estimate(self.samples, self.floor)

    @property
    def ours(self) -> Estimate:
        paired = self.paired
        return paired if self.design is PAIRED and paired is not None else self.welch

    @property
    def other(self) -> Estimate | None:
        """The other design's estimate (a line with the same seeds everywhere, or a partial overlap's pairs)."""
        paired, welch = self.paired, self.welch
        if paired is None or not welch.has_interval:
            return None
        return welch if self.ours is paired else paired

    @property
    def by_design(self) -> bool:
        """Whether seeds were added to the line until decided: the sequential design's record judges it, not a
        fixed-sample interval over seeds chosen by looking at them."""
        return self.sequential is not None and self.sequential.sequential

    @property
    def verdict(self) -> Verdict:
        """The line's one verdict: where seeds were added until decided, what the design decided (read from its
        record, never judged again; repro/claims/sequential_record.py), else its interval's."""
        decided = self.sequential.design_verdict() if self.sequential is not None else None
        return decided or self.judge.verdict(self.ours, self.paper.value, self.paper.side, self.claim.margin)

    @property
    def other_verdict(self) -> Verdict | None:
        """The other design's verdict where it differs from this line's (none where the sequential design judges)."""
        other = self.other
        if other is None or self.by_design:
            return None
        found = self.judge.verdict(other, self.paper.value, self.paper.side, self.claim.margin)
        return found if found != self.verdict else None

    @property
    def p_value(self) -> float:
        """The line's test for the headline's Holm correction: where its seeds were added until it was decided, the
        repeated p-value at the look that decided it (a fixed-sample p over seeds chosen by looking at them would
        understate it; NaN while its next look waits); else the fixed-sample p of its interval."""
        by_design = self.sequential.design_p() if self.sequential is not None else None
        if by_design is not None:
            return by_design
        return self.judge.p_value(self.ours, self.paper.side, self.claim.margin)

    @property
    def detectable(self) -> float:
        return self.judge.detectable(self.ours) if self.ours.has_interval else math.nan

    def model(self, ours: bool) -> LineModel | None:
        """The ledger's test of this line as repro/claims/decision.py models it: from our runs' spread (estimated
        from them without bias) or the paper's (its printed stds, in this line's design); None without one."""
        if ours:
            return estimated_model(self.ours, self.paper.value, self.claim.margin)
        spread = self.paper.spread(self.floor)
        if spread is None:
            return None
        return LineModel(spread, self.floor, self.design, self.paper.value, self.claim.margin)

    def seeds_for_paper(self, ours: bool) -> int | None:
        """Seeds per cell that decide the line with 80% power when the truth is the paper's contrast: from our
        spread (ours=True) or the paper's (None: no spread, no contrast, or more than MAX_SEEDS)."""
        model = self.model(ours)
        if model is None or self.paper.value is None or (self.claim.margin is None and self.paper.value == 0):
            return None
        return model.seeds_for(self.paper.value)

    @property
    def paper_estimate(self) -> Estimate | None:
        return self.paper.estimate()

    @property
    def paper_significant(self) -> bool | None:
        """Whether the paper's own line passes the same test (from its printed means ± stds over 3 runs)."""
        estimate = self.paper_estimate
        return None if estimate is None else self.judge.significant(estimate, self.paper.side, self.claim.margin)

    @property
    def key(self) -> tuple:
        """The line's test: what it asks (its judge, margin and side) of which runs (by run ids). Two claims with
        the same key are one test; a gain and a "comparable" claim over the same runs are two."""
        test = (self.judge.name, self.claim.margin, self.paper.side, self.claim.measure)
        return (*test, *((c.sample.coef, c.runs or (c.row, c.column)) for c in self.cells))

    def seeds_text(self) -> str:
        ours = self.ours
        if ours.design is PAIRED:
            return f"{ours.n_shared} paired"
        counts = " vs ".join(str(s.n) for s in self.samples) if len(self.samples) > 1 else str(self.samples[0].n)
        if self.partial_overlap:
            counts += f" ({len(shared_seeds(self.samples))} shared)"
        return counts


def choose_designs(lines: Sequence[Line]) -> tuple[Design | None, str]:
    """A table's designs, as each of its lines takes its own (`Line.design`): the design every line with an
    interval takes (None where they differ), and which lines take which, and why."""
    counts = Counter(line.design for line in lines if len(line.cells) > 1 and line.welch.has_interval)
    if not counts:
        return None, "no line contrasts two cells with two or more runs each"
    parts = []
    for design in (PAIRED, WELCH):
        found = [line for line in lines if line.design is design and line.welch.has_interval and len(line.cells) > 1]
        if found:
            parts.append(f"{design} on {len(found)} line(s): {_why(design, found)}")
    return (next(iter(counts)) if len(counts) == 1 else None), "; ".join(parts)


def _why(design: Design, lines: Sequence[Line]) -> str:
    if design is PAIRED:
        draws = ", ".join(dict.fromkeys(draw for line in lines for draw in line.shared_draws))
        return f"their cells' runs of one seed share its {draws}"
    unmatched = sum(not line.full_overlap for line in lines)
    reasons = [f"{unmatched} without the same seeds in every cell"] if unmatched else []
    if len(lines) > unmatched:
        reasons.append(f"{len(lines) - unmatched} whose cells' runs of one seed share no draw")
    return ", ".join(reasons)


@dataclass
class ClaimJudgement:
    claim: Claim
    lines: list[Line]
    p_adjusted: float = math.nan  # Holm's, over the ledger's distinct claims

    @property
    def p_value(self) -> float:
        """The claim holds in every column: the largest of its lines' p-values (an intersection-union test)."""
        found = [line.p_value for line in self.lines]
        return math.nan if not found or any(math.isnan(p) for p in found) else max(found)

    @property
    def holds(self) -> bool | None:
        """After Holm's correction (None: not tested, a level or a line without an interval)."""
        if math.isnan(self.p_adjusted):
            return None
        return self.p_adjusted < self.lines[0].judge.threshold

    def holds_text(self) -> str:
        """Whether it holds after Holm, in words, with why where the verdict beside it would not say: a claim whose
        every line is on the paper's side that does not hold, or a claim not tested while seeds are added."""
        if self.holds is None:
            waiting = any(line.verdict is NOT_YET_DECIDED for line in self.lines)
            return "not tested: seeds are still being added until decided" if waiting else "not tested"
        if self.holds:
            return "yes"
        if not all(line.verdict.on_papers_side for line in self.lines):
            return "no"
        threshold = self.lines[0].judge.threshold
        if self.p_value < threshold:
            return f"no: its own p {self.p_value:.3g} passes {threshold:g}, but not after Holm's correction"
        return f"no: its p {self.p_value:.3g} is not below {threshold:g}"

    @property
    def verdict(self) -> str:
        counts = Counter(str(line.verdict) for line in self.lines)
        if len(counts) == 1:
            return next(iter(counts))
        return "mixed: " + ", ".join(f"{n} {text}" for text, n in counts.most_common())

    @property
    def key(self) -> tuple:
        return tuple(sorted(line.key for line in self.lines))


def judge_claims(lines: Sequence[Line]) -> list[ClaimJudgement]:
    """One judgement per claim, with Holm's adjusted p over the distinct claims that are tested (a claim whose lines
    make the same test of the very same runs as another's, Line.key, is one test)."""
    judgements: dict[Any, ClaimJudgement] = {}
    for line in lines:
        judgements.setdefault((line.claim.table, line.claim.name), ClaimJudgement(line.claim, [])).lines.append(line)
    found = list(judgements.values())
    tests: dict[tuple, float] = {}
    for judgement in found:
        if judgement.lines[0].judge.tested and not math.isnan(judgement.p_value):
            tests.setdefault(judgement.key, judgement.p_value)
    adjusted = dict(zip(tests, holm(list(tests.values()))))
    for judgement in found:
        if judgement.lines[0].judge.tested and judgement.key in adjusted and not math.isnan(judgement.p_value):
            judgement.p_adjusted = adjusted[judgement.key]
    return found


def headline(judgements: Sequence[ClaimJudgement], lines: Sequence[Line]) -> str:
    """The ledger's first sentence: how many claims hold after Holm, and what its lines say."""
    tested = [j for j in judgements if j.holds is not None]
    distinct = len({j.key for j in tested})
    holding = [j for j in tested if j.holds]
    verdicts = Counter(str(line.verdict) for line in lines)
    said = ", ".join(f"{n} {text}" for text, n in verdicts.most_common())
    sequential = sum(line.by_design and not math.isnan(line.p_value) for line in lines)
    waiting = sum(line.verdict is NOT_YET_DECIDED for line in lines)
    repeated = f"; {sequential} line(s) whose seeds were added until decided enter with their repeated p-values" * (
        sequential > 0
    ) + f"; {waiting} line(s) not yet decided, their next look waiting for its seeds, are not tested" * (waiting > 0)
    return (
        f"{len(judgements)} claims answered in {len(lines)} lines. After Holm's correction over {distinct} distinct "
        f"tests (family-wise 5%; claims making the same test of the very same runs counted once{repeated}), "
        f"{len(holding)} of {len(tested)} tested claims hold in every column (on the paper's side, or equivalent "
        f"within the margin). Lines: {said}."
    )


__all__ = ["NO_INTERVAL", "ClaimJudgement", "Line", "LineCell", "choose_designs", "headline", "judge_claims"]
