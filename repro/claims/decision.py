"""The ledger's decision model: what the ledger's test will decide of one claim line, before its runs exist, when the
truth is a given contrast and its cells' runs scatter as a given spread. The ledger's detectable and seeds columns,
the dry run's table of what a sweep's seeds can decide, the until-decided stage's question "decidable within its
most seeds?" and `repro plan` all ask it; none carries a power formula of its own.

The test is the ledger's own (repro/claims/judgement.py, verdicts.py): its design (paired where the cells share
their seeds and a random draw of each seed, Welch's otherwise: repro/claims/pairing.py, `choose_design`), its degrees
of freedom, the sd estimated from the seeds (never below one test image, the floor), its 95% interval (a comparable
claim's 90%, two one-sided 5% tests). A line is *decided* when its verdict is one of DECISIONS: a sign shown on the
paper's side or the opposite one, the paper's value ruled out (0 inside the interval, the paper's contrast outside),
equivalent, or not equivalent (verdicts.py gives each verdict its decision, so the ledger and this model count one
thing). Lines whose seeds are added until decided: simulated through the group-sequential design's own looks
(`until_decided`, repro/claims/sequential.py). Holm's correction over a plan's lines: simulated with the same
statistics by repro/planning/holm_draws.py.

How: the contrast's mean over n seeds is normal and independent of the seeds' sds, so given the interval's
half-width h every decision is a normal probability of where the mean falls; only h is random. Paired, h follows
the chi distribution of the per-seed contrasts' sd: an exact integral over it (Gauss-Legendre on its quantiles,
repro/claims/decision_widths.py), which with no floor is the noncentral t's own (a test checks it against scipy's).
Welch's h depends on every cell's sd through its degrees of freedom: simulated, a fixed seed and draws of the cells'
sds alone (repro/claims/decision_widths.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Sequence

import numpy as np
from scipy import optimize, special

from repro.claims.decision_widths import Widths, paired_widths, welch_widths
from repro.claims.sequential import Looks, stopped_intervals
from repro.claims.stats import ALPHA, MAX_SEEDS, PAIRED, POWER, WELCH, Design, Estimate


@dataclass(frozen=True)
class Decision:
    """A kind of decided line (its verdict decides it)."""

    name: str

    def __str__(self) -> str:
        return self.name


PAPERS_SIDE = Decision("on the paper's side")  # the interval excludes 0 on the side the paper found
OPPOSITE_SIDE = Decision("opposite")  # it excludes 0 on the other side
RULED_OUT = Decision("paper's value ruled out")  # it holds 0 and excludes the paper's contrast
SHOWN_EQUIVALENT = Decision("equivalent")  # a comparable claim's 90% interval inside the margin
SHOWN_NOT_EQUIVALENT = Decision("not equivalent")  # wholly beyond the margin
DECISIONS = (PAPERS_SIDE, OPPOSITE_SIDE, RULED_OUT, SHOWN_EQUIVALENT, SHOWN_NOT_EQUIVALENT)
ANY_MARGIN = math.inf  # marks a comparable claim's test where only its margin is asked for (`detectable`)


@dataclass(frozen=True)
class Outcomes:
    """The probability of each decision (DECISIONS' order), or their expected counts over several lines."""

    chances: tuple[float, ...] = (0.0,) * len(DECISIONS)

    def of(self, kind: Decision) -> float:
        return self.chances[DECISIONS.index(kind)]

    @property
    def decided(self) -> float:
        return float(sum(self.chances))

    def __add__(self, other: Outcomes) -> Outcomes:
        return Outcomes(tuple(a + b for a, b in zip(self.chances, other.chances)))


@dataclass(frozen=True)
class Spread:
    """How a line's runs scatter from seed to seed: each cell's sd (its cells taken as independent at one seed) or,
    from runs of ours that share their seeds, the sd of the per-seed contrasts."""

    coefs: tuple[float, ...]
    cell_sds: tuple[float, ...] = ()
    paired_sd: float | None = None

    @property
    def contrast_sd(self) -> float:
        """The sd of one seed's contrast sum_i c_i x_i."""
        if self.paired_sd is not None:
            return self.paired_sd
        return math.sqrt(sum((c * sd) ** 2 for c, sd in zip(self.coefs, self.cell_sds)))

    def per_cell(self) -> tuple[float, ...]:
        """Each cell's sd: ours paired knows only the contrast's, split evenly over its cells (|c_i| = 1)."""
        if self.cell_sds:
            return self.cell_sds
        return (self.contrast_sd / math.sqrt(len(self.coefs)),) * len(self.coefs)


@dataclass(frozen=True)
class LineModel:
    """One line's test as the ledger will run it: its runs' spread, the floor, the design, the paper's contrast (what
    "ruled out" rules out; its sign is the paper's side) and, for a comparable claim, the margin."""

    spread: Spread
    floor: float
    design: Design = PAIRED
    paper: float | None = None
    margin: float | None = None

    @property
    def side(self) -> int:
        return -1 if (self.paper or 0.0) < 0 else 1

    def widths(self, seeds: int | Sequence[int]) -> Widths | None:
        """The interval's half-width distribution at `seeds` per cell (one count, or each cell's); None: no interval
        (a cell with fewer than two runs)."""
        counts = _counts(seeds, len(self.spread.coefs))
        if min(counts) < 2:
            return None
        level = 1.0 - ALPHA if self.margin is not None else 1.0 - ALPHA / 2  # the 90% or the 95% interval's quantile
        if self.design is PAIRED and len(set(counts)) == 1 and len(counts) > 1:
            return paired_widths(self.spread.contrast_sd, counts[0], self.floor, level)
        return welch_widths(self.spread.coefs, self.spread.per_cell(), counts, self.floor, level)

    def outcomes(self, seeds: int | Sequence[int], truth: float) -> Outcomes:
        """P(each decision) with `seeds` per cell when the true contrast is `truth`."""
        widths = self.widths(seeds)
        if widths is None:
            return Outcomes()
        return Outcomes(_chances(widths, truth, self.paper, self.side, self.margin))

    def decided(self, seeds: int | Sequence[int], truth: float) -> float:
        return self.outcomes(seeds, truth).decided

    def seeds_for(self, truth: float, most: int = MAX_SEEDS) -> int | None:
        """The fewest seeds per cell that decide the line with POWER when the true contrast is `truth`; None: more
        than `most`."""
        return next((n for n in range(2, most + 1) if self.decided(n, truth) >= POWER), None)

    def detectable(self, seeds: int | Sequence[int]) -> float:
        """Directional: the smallest true contrast whose sign the test shows with POWER; comparable: the smallest
        margin it shows the rows equivalent within with POWER when they are level. NaN: no interval."""
        return _detectable(self, _counts(seeds, len(self.spread.coefs)))

    def detects(self, seeds: int | Sequence[int], size: float) -> bool:
        """Whether `size` (a contrast; comparable: the margin) is at least what the seeds detect, without solving
        for it: one probability, monotone in `size`."""
        if self.margin is None:
            return self.sign_chance(seeds, abs(size)) >= POWER
        return replace(self, margin=size).outcomes(seeds, 0.0).of(SHOWN_EQUIVALENT) >= POWER

    def until_decided(self, looks: Looks, truth: float) -> Outcomes:
        """P(each decision) where seeds are added in rounds until the line is decided (the group-sequential design's
        looks, paired as its stage pairs them): simulated through the stage's own looks (repro/claims/sequential.py),
        each line read where it stopped, or at its last look."""
        found = stopped_intervals(looks, truth, self.spread.contrast_sd, self.floor, paper=self.paper,
                                  margin=self.margin)  # fmt: skip
        stop, low, high = found.stop, found.low, found.high
        if self.margin is not None:
            inside = stop & (low > -self.margin) & (high < self.margin)
            return Outcomes((0.0, 0.0, 0.0, float(inside.mean()), float((stop & ~inside).mean())))
        up, down = stop & (low > 0.0), stop & (high < 0.0)
        ruled = float((stop & ~up & ~down).mean())
        ups, downs = float(up.mean()), float(down.mean())
        return Outcomes((ups, downs, ruled, 0.0, 0.0) if self.side > 0 else (downs, ups, ruled, 0.0, 0.0))

    def sign_chance(self, seeds: int | Sequence[int], truth: float) -> float:
        """P(the interval excludes 0 on either side) at `truth` (what "detectable" powers)."""
        found = replace(self, paper=None, margin=None).outcomes(seeds, truth)
        return found.of(PAPERS_SIDE) + found.of(OPPOSITE_SIDE)


def sequentially_decidable(model: LineModel | None, most: int) -> tuple[bool, str]:
    """Whether seeds added until decided may decide the line: the paper's contrast (the model's truth) decidable
    with POWER by a fixed count of at most `most` seeds, paired as the design's looks are; with why not. The
    until-decided stage adds seeds only to such lines, and `repro plan` offers only them that option."""
    if model is None:
        return False, "the paper prints no spread for this contrast"
    if model.paper is None:
        return False, "the paper prints no contrast here to decide"
    needed = replace(model, design=PAIRED).seeds_for(model.paper)
    if needed is None:
        return False, f"the paper's contrast needs more than {MAX_SEEDS} seeds (or is not decidable)"
    if needed > most:
        return False, f"the paper's contrast needs {needed} seeds, more than the {most} allowed"
    return True, ""


def _counts(seeds: int | Sequence[int], cells: int) -> tuple[int, ...]:
    return (int(seeds),) * cells if isinstance(seeds, (int, np.integer)) else tuple(int(n) for n in seeds)


@lru_cache(maxsize=4096)
def _detectable(model: LineModel, counts: tuple[int, ...]) -> float:
    widths = model.widths(counts)
    if widths is None:
        return math.nan
    top = 1e3 * max(widths.se, model.floor, 1e-12)
    if model.margin is None:
        return optimize.brentq(lambda d: model.sign_chance(counts, d) - POWER, 0.0, top, xtol=1e-10)
    level = replace(model, paper=None)
    return optimize.brentq(lambda m: _equivalent_at(level, counts, m) - POWER, 1e-12, top, xtol=1e-10)


def _equivalent_at(model: LineModel, counts: tuple[int, ...], margin: float) -> float:
    return replace(model, margin=margin).outcomes(counts, 0.0).of(SHOWN_EQUIVALENT)


def _chances(widths: Widths, truth: float, paper: float | None, side: int, margin: float | None) -> tuple:
    """P(each decision), averaged over the half-widths' nodes or draws: the mean's normal probabilities given h."""
    h, w, se = widths.half, widths.weights, max(widths.se, 1e-300)

    def below(x: np.ndarray) -> np.ndarray:  # P(mean < x)
        return special.ndtr((x - truth) / se)

    def between(low: np.ndarray, high: np.ndarray) -> np.ndarray:
        return np.maximum(below(high) - below(low), 0.0)

    if margin is not None:
        inside = float(w @ between(-margin + h, margin - h))
        beyond = float(w @ (below(-margin - h) + 1.0 - below(margin + h)))
        return (0.0, 0.0, 0.0, inside, beyond)
    up, down = 1.0 - below(h), below(-h)
    ruled = 0.0
    if paper is not None:
        holds_both = between(np.maximum(-h, paper - h), np.minimum(h, paper + h))
        ruled = float(w @ (between(-h, h) - holds_both))
    ups, downs = float(w @ up), float(w @ down)
    return (ups, downs, ruled, 0.0, 0.0) if side > 0 else (downs, ups, ruled, 0.0, 0.0)


def c4(n: int) -> float:
    """E[s] / sigma for the sd of n normal values: s / c4 estimates sigma without bias."""
    return math.sqrt(2.0 / (n - 1)) * math.exp(special.gammaln(n / 2.0) - special.gammaln((n - 1) / 2.0))


def estimated_model(estimate: Estimate, paper: float | None = None, margin: float | None = None) -> LineModel | None:
    """The model of a line judged from our runs, its spread estimated from them without bias (each sd over c4 of its
    count, as "detectable" is a contrast that scales with the true sd); None without an interval."""
    if not estimate.has_interval or not estimate.sds:
        return None
    if estimate.design is PAIRED:
        spread = Spread(estimate.coefs, paired_sd=estimate.sds[0] / c4(estimate.n_shared))
    else:
        sds = tuple(sd / c4(n) for sd, n in zip(estimate.sds, estimate.counts))
        spread = Spread(estimate.coefs, cell_sds=sds)
    design = PAIRED if estimate.design is PAIRED else WELCH
    return LineModel(spread, estimate.floor, design, paper, margin)


def estimate_seeds(estimate: Estimate) -> int | tuple[int, ...]:
    """The seeds per cell the estimate rests on (paired: its shared seeds)."""
    return estimate.n_shared if estimate.design is PAIRED else estimate.counts


def estimated_detectable(estimate: Estimate, equivalence: bool = False) -> float:
    """What the ledger's Detectable column shows of one line: the model's detectable at the line's seeds (a
    comparable claim's: the smallest margin they show)."""
    model = estimated_model(estimate, None, ANY_MARGIN if equivalence else None)
    return math.nan if model is None else model.detectable(estimate_seeds(estimate))


def estimated_detects(estimate: Estimate, size: float, equivalence: bool = False) -> bool:
    """Whether `size` (a contrast; comparable: the margin) is at least what the line's seeds detect."""
    model = estimated_model(estimate, None, ANY_MARGIN if equivalence else None)
    return model is not None and model.detects(estimate_seeds(estimate), size)
