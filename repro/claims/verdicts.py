"""What a line of the ledger says, in words a reader can act on, and the three ways a claim is judged: directional
(a gain, an interaction, a recorded effect: is our contrast on the paper's side of 0, and is the paper's inside our
interval?), equivalence (a "comparable" claim: two one-sided tests against a declared margin) and level (a recorded
quantity against the number the paper states). Each judge also gives the p-value the headline corrects with Holm,
what its seeds could detect and how many seeds would decide the paper's contrast."""

from __future__ import annotations

import math
from dataclasses import dataclass

from repro.claims.stats import (
    ALPHA,
    CONFIDENCE,
    Estimate,
    Spread,
    power_equivalence,
    power_two_sided,
    seeds_needed,
)


@dataclass(frozen=True)
class Verdict:
    text: str
    tone: str  # "agrees", "short", "open", "against": how the PNG colours it and how the headline counts it

    def __str__(self) -> str:
        return self.text

    @property
    def on_papers_side(self) -> bool:
        """Our contrast is where the paper's is (its size agreeing or short of it), or at the paper's level."""
        return self.tone in ("agrees", "short")


CONSISTENT = Verdict("consistent with the paper", "agrees")  # excludes 0 on its side, the paper's value inside
SIGN_REPRODUCED = Verdict("sign reproduced", "agrees")  # excludes 0 on the claimed side (the paper prints no number)
LARGER = Verdict("larger than the paper's", "agrees")
SMALLER = Verdict("smaller than the paper's", "short")  # on the paper's side, the paper's value above our interval
NOT_REPRODUCED = Verdict("not reproduced", "against")  # holds 0, and the paper's value lies outside it
UNDETECTABLE = Verdict("not detectable at these seeds", "open")  # holds 0; the paper's is below what they detect
INCONCLUSIVE = Verdict("inconclusive", "open")  # holds 0 and the paper's value, which the seeds could detect
NOT_SIGNIFICANT = Verdict("not significant", "open")  # holds 0 (the paper prints no number)
OPPOSITE = Verdict("opposite", "against")  # excludes 0 on the other side
EQUIVALENT = Verdict("equivalent within the margin", "agrees")
NOT_EQUIVALENT = Verdict("not equivalent: beyond the margin", "against")
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
        return ours.detectable()

    def seeds_for(self, paper: float | None, spread: Spread, margin: float | None) -> int | None:
        return seeds_needed(paper, spread) if paper is not None and paper != 0 else None

    def power_at(self, paper: float | None, spread: Spread, margin: float | None, n: int) -> float | None:
        """P(n seeds per cell decide the line) when the truth is the paper's contrast: the two-sided test's power
        at it (None: the paper gives no contrast to aim at). What `repro plan` buys seeds by."""
        if paper is None or paper == 0:
            return None
        if n < 2:
            return 0.0
        se, dof = spread.at(n)
        return 1.0 if se == 0.0 else power_two_sided(paper, se, dof)

    def undecidable(self, paper: float | None, detectable: float, margin: float | None) -> bool:
        """Whether seeds that detect `detectable` are too few to decide the paper's contrast."""
        return paper is not None and abs(paper) < detectable

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
        if abs(paper) < ours.detectable():
            return UNDETECTABLE
        return INCONCLUSIVE if low <= paper <= high else NOT_REPRODUCED

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
        return EQUIVALENCE_UNDECIDABLE if margin < ours.provable_margin() else NOT_SHOWN_EQUIVALENT

    def p_value(self, ours: Estimate, side: int, margin: float | None) -> float:
        assert margin is not None
        return ours.p_equivalence(margin)

    def detectable(self, ours: Estimate) -> float:
        return ours.provable_margin()

    def seeds_for(self, paper: float | None, spread: Spread, margin: float | None) -> int | None:
        assert margin is not None
        return seeds_needed(paper or 0.0, spread, margin)

    def power_at(self, paper: float | None, spread: Spread, margin: float | None, n: int) -> float | None:
        """P(two one-sided tests show the rows level within the margin) when the truth is the paper's contrast."""
        assert margin is not None
        if n < 2:
            return 0.0
        se, dof = spread.at(n)
        if se == 0.0:
            return float(abs(paper or 0.0) < margin)
        return power_equivalence(paper or 0.0, margin, se, dof)

    def undecidable(self, paper: float | None, detectable: float, margin: float | None) -> bool:
        return margin is not None and margin < detectable


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

    def seeds_for(self, paper: float | None, spread: Spread, margin: float | None) -> int | None:
        return None

    def power_at(self, paper: float | None, spread: Spread, margin: float | None, n: int) -> float | None:
        return None  # the paper prints no spread for the numbers its text states

    def undecidable(self, paper: float | None, detectable: float, margin: float | None) -> bool:
        return False


DIRECTIONAL, EQUIVALENCE, LEVEL = Directional(), Equivalence(), Level()
assert CONFIDENCE == 1.0 - ALPHA
