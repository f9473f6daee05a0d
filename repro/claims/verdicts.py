"""What a line of the ledger says, in words a reader can act on, and the three ways a claim is judged: directional
(a gain, an interaction, a recorded effect: is our contrast on the paper's side of 0, and is the paper's inside our
interval?), equivalence (a "comparable" claim: two one-sided tests against a declared margin) and level (a recorded
quantity against the number the paper states). Each judge also gives the p-value the headline corrects with Holm and
what its seeds could detect (repro/claims/decision.py's model of its test). Each verdict that decides a line names
its decision (decision.py's DECISIONS): what the ledger counts as decided and what `repro plan` expects are one."""

from __future__ import annotations

import math
from dataclasses import dataclass

from repro.claims.decision import (
    OPPOSITE_SIDE,
    PAPERS_SIDE,
    RULED_OUT,
    SHOWN_EQUIVALENT,
    SHOWN_NOT_EQUIVALENT,
    Decision,
    estimated_detectable,
    estimated_detects,
)
from repro.claims.stats import ALPHA, CONFIDENCE, Estimate


@dataclass(frozen=True)
class Verdict:
    text: str
    tone: str  # "agrees", "short", "open", "against": how the PNG colours it and how the headline counts it
    decision: Decision | None = None  # what it decides of the line (None: undecided, or a level's verdict)

    def __str__(self) -> str:
        return self.text

    @property
    def on_papers_side(self) -> bool:
        """Our contrast is where the paper's is (its size agreeing or short of it), or at the paper's level."""
        return self.tone in ("agrees", "short")


# excludes 0 on its side, the paper's value inside
CONSISTENT = Verdict("consistent with the paper", "agrees", PAPERS_SIDE)
# excludes 0 on the claimed side (the paper prints no number)
SIGN_REPRODUCED = Verdict("sign reproduced", "agrees", PAPERS_SIDE)
LARGER = Verdict("larger than the paper's", "agrees", PAPERS_SIDE)
# on the paper's side, the paper's value above our interval
SMALLER = Verdict("smaller than the paper's", "short", PAPERS_SIDE)
NOT_REPRODUCED = Verdict("not reproduced", "against", RULED_OUT)  # holds 0, and the paper's value lies outside it
UNDETECTABLE = Verdict("not detectable at these seeds", "open")  # holds 0 and the paper's, below what they detect
INCONCLUSIVE = Verdict("inconclusive", "open")  # holds 0 and the paper's value, which the seeds could detect
NOT_SIGNIFICANT = Verdict("not significant", "open")  # holds 0 (the paper prints no number)
OPPOSITE = Verdict("opposite", "against", OPPOSITE_SIDE)  # excludes 0 on the other side
EQUIVALENT = Verdict("equivalent within the margin", "agrees", SHOWN_EQUIVALENT)
NOT_EQUIVALENT = Verdict("not equivalent: beyond the margin", "against", SHOWN_NOT_EQUIVALENT)
EQUIVALENCE_UNDECIDABLE = Verdict("not decidable at these seeds", "open")  # margin below what the seeds can show
NOT_SHOWN_EQUIVALENT = Verdict("not shown equivalent", "open")
AT_PAPER_LEVEL = Verdict("consistent with the paper's number", "agrees")
BELOW_PAPER = Verdict("below the paper's number", "against")
ABOVE_PAPER = Verdict("above the paper's number", "against")
ONE_SEED = Verdict("one seed: no interval", "open")
NOT_YET_DECIDED = Verdict("not yet decided", "open")  # seeds are being added until decided; its next look waits
VERDICTS = {
    v.text: v
    for v in (CONSISTENT, SIGN_REPRODUCED, LARGER, SMALLER, NOT_REPRODUCED, UNDETECTABLE, INCONCLUSIVE,
              NOT_SIGNIFICANT, OPPOSITE, EQUIVALENT, NOT_EQUIVALENT, EQUIVALENCE_UNDECIDABLE, NOT_SHOWN_EQUIVALENT,
              AT_PAPER_LEVEL, BELOW_PAPER, ABOVE_PAPER, ONE_SEED, NOT_YET_DECIDED)
}  # fmt: skip


def verdict_named(text: str) -> Verdict:
    """A verdict kept in a file as its words (a sweep's sequential record) back as the verdict; words that are no
    verdict of this version stand as they are, counted as open."""
    return VERDICTS.get(text, Verdict(text, "open"))


class Judge:
    """How a claim's lines are judged. `side`: the sign the paper found (+1: the contrast above 0)."""

    name = ""
    tested = True  # its p-values enter the headline's Holm correction
    threshold = ALPHA  # a p-value below it passes (after Holm's adjustment, in the headline)

    def verdict(self, ours: Estimate, paper: float | None, side: int, margin: float | None) -> Verdict:
        raise NotImplementedError

    def p_value(self, ours: Estimate, side: int, margin: float | None) -> float:
        return math.nan

    def detectable(self, ours: Estimate) -> float:
        """The smallest contrast (or margin) its seeds could decide with 80% power."""
        return estimated_detectable(ours)

    def significant(self, estimate: Estimate, side: int, margin: float | None) -> bool | None:
        """Whether `estimate` (ours, or the paper's from its mean ± std) passes this judge's test."""
        p = self.p_value(estimate, side, margin)
        return None if math.isnan(p) else bool(p < self.threshold)


class Directional(Judge):
    """A contrast the paper finds on one side of 0: a gain, an interaction, a recorded effect."""

    name = "directional"
    threshold = ALPHA / 2  # one-sided: the 95% two-sided interval excludes 0 on the paper's side

    def verdict(self, ours: Estimate, paper: float | None, side: int, margin: float | None) -> Verdict:
        if not ours.has_interval:
            return ONE_SEED
        low, high = ours.interval()
        if (low > 0.0 and side > 0) or (high < 0.0 and side < 0):
            if paper is None or low <= paper <= high:
                return CONSISTENT if paper is not None else SIGN_REPRODUCED
            return SMALLER if abs(ours.diff) < abs(paper) else LARGER
        if low > 0.0 or high < 0.0:
            return OPPOSITE
        if paper is None:
            return NOT_SIGNIFICANT
        if not low <= paper <= high:  # the paper's contrast ruled out, as the sequential design rules it out
            return NOT_REPRODUCED
        return INCONCLUSIVE if estimated_detects(ours, abs(paper)) else UNDETECTABLE

    def p_value(self, ours: Estimate, side: int, margin: float | None) -> float:
        return ours.p_one_sided(side)


class Equivalence(Judge):
    """A "comparable" claim: two one-sided tests at 5% (the 90% interval inside ± margin)."""

    name = "equivalence"
    threshold = ALPHA  # each one-sided test at 5%: the 90% interval inside the margin

    def verdict(self, ours: Estimate, paper: float | None, side: int, margin: float | None) -> Verdict:
        assert margin is not None
        if not ours.has_interval:
            return ONE_SEED
        low, high = ours.interval(1.0 - 2.0 * ALPHA)
        if -margin < low and high < margin:
            return EQUIVALENT
        if low >= margin or high <= -margin:
            return NOT_EQUIVALENT
        return NOT_SHOWN_EQUIVALENT if estimated_detects(ours, margin, equivalence=True) else EQUIVALENCE_UNDECIDABLE

    def p_value(self, ours: Estimate, side: int, margin: float | None) -> float:
        assert margin is not None
        return ours.p_equivalence(margin)

    def detectable(self, ours: Estimate) -> float:
        return estimated_detectable(ours, equivalence=True)


class Level(Judge):
    """A recorded quantity against the number the paper states: is the paper's number inside our interval?"""

    name = "level"
    tested = False

    def verdict(self, ours: Estimate, paper: float | None, side: int, margin: float | None) -> Verdict:
        if not ours.has_interval:
            return ONE_SEED
        low, high = ours.interval()
        if paper is None or low <= paper <= high:
            return AT_PAPER_LEVEL
        return BELOW_PAPER if high < paper else ABOVE_PAPER


DIRECTIONAL, EQUIVALENCE, LEVEL = Directional(), Equivalence(), Level()
assert CONFIDENCE == 1.0 - ALPHA


def sequential_verdict(low: float, high: float, paper: float | None, side: int, margin: float | None) -> Verdict:
    """What a line's repeated confidence interval [low, high] says where it stopped (or at its last look), in the
    ledger's words (repro/claims/sequential.py's design): a gain's or interaction's sign, size against the paper's,
    or the paper's contrast ruled out; a comparable claim's equivalence."""
    if margin is not None:
        if -margin < low and high < margin:
            return EQUIVALENT
        return NOT_EQUIVALENT if low >= margin or high <= -margin else NOT_SHOWN_EQUIVALENT
    if (low > 0.0 and side > 0) or (high < 0.0 and side < 0):
        if paper is None:
            return SIGN_REPRODUCED
        if low <= paper <= high:
            return CONSISTENT
        return SMALLER if abs((low + high) / 2) < abs(paper) else LARGER
    if low > 0.0 or high < 0.0:
        return OPPOSITE
    if paper is not None and not low <= paper <= high:
        return NOT_REPRODUCED
    return INCONCLUSIVE if paper is not None else NOT_SIGNIFICANT
