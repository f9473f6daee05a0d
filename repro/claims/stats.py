"""The statistics that judge a claim: a contrast over cells (a difference, or a difference of differences) with its
t-interval over seeds, the two one-sided tests of equivalence, the power of a design and the seeds a difference
needs, and Holm's step-down correction. `repro ledger` (analysis/ledger/) judges finished runs with them and
`repro sweep FILE --dry-run` (repro/claims/seed_power.py) says before any run what a table's seeds can decide, so
both live here, below the sweep and the analysis that use them.

A contrast is sum_i c_i x_i over cells i (c_i = +1 / -1: better minus worse; four cells for an interaction), each
cell a list of per-seed values. Two designs:

- paired: every cell has the same seeds (at least two); the per-seed contrasts d_s = sum_i c_i x_(i,s) give
  mean ± t(0.975, n-1) * sd(d) / sqrt(n), which removes what a seed gives every cell alike;
- Welch: each cell on its own, the sum of the means ± t(0.975, nu) * sqrt(sum_i c_i^2 s_i^2 / n_i), nu by
  Welch-Satterthwaite; it needs at least two runs per cell.

No spread is taken below `floor` (one test image, in the metric's units): identical per-seed values do not make a
zero-width interval, and a spread raised to the floor is flagged. The t quantiles and tails are scipy.special's
stdtrit and stdtr, and power uses its noncentral t (nctdtr): scipy.stats.t and scipy.stats.nct call these very
functions, so the floats are theirs, without scipy.stats' import (over a second) and its per-call argument checks
(every caller here passes dof > 0 and 0 < q < 1).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

from scipy import optimize, special

CONFIDENCE = 0.95  # two-sided intervals; the equivalence test uses the 90% interval (two one-sided 5% tests)
ALPHA = 1.0 - CONFIDENCE
POWER = 0.80  # what "detectable" means: found with this probability at ALPHA, two-sided
MAX_SEEDS = 100  # seeds_needed searches up to this many per cell


@dataclass(frozen=True)
class Design:
    """How an interval was computed (a fact the line shows)."""

    name: str

    def __str__(self) -> str:
        return self.name


PAIRED = Design("paired t")
WELCH = Design("Welch t")
NO_INTERVAL = Design("none")


@dataclass(frozen=True)
class CellSample:
    """One cell's finished runs in a contrast: its coefficient, each run's value and seed."""

    coef: float
    values: tuple[float, ...]
    seeds: tuple[Any, ...] = ()

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)


@dataclass(frozen=True)
class Estimate:
    """A contrast's value with its standard error and degrees of freedom under one design (se NaN: no interval)."""

    design: Design
    diff: float
    se: float
    dof: float
    floored: bool = False  # some spread was below the floor and was raised to it
    n_shared: int = 0  # paired: the seeds every cell shares

    @property
    def has_interval(self) -> bool:
        return math.isfinite(self.se) and self.dof > 0

    def interval(self, confidence: float = CONFIDENCE) -> tuple[float, float]:
        if not self.has_interval:
            return math.nan, math.nan
        half = t_quantile(0.5 + confidence / 2, self.dof) * self.se
        return self.diff - half, self.diff + half

    def p_one_sided(self, side: int) -> float:
        """P-value of "the contrast is on `side` of 0" (+1: above): the test of a directional claim."""
        if not self.has_interval:
            return math.nan
        return float(special.stdtr(self.dof, -(side * self.diff / self.se)))  # P(T > x) = P(T < -x)

    def p_equivalence(self, margin: float) -> float:
        """Two one-sided tests: the larger p of "above -margin" and "below +margin" (equivalent when < ALPHA)."""
        if not self.has_interval:
            return math.nan
        above = special.stdtr(self.dof, -(self.diff + margin) / self.se)
        below = special.stdtr(self.dof, (self.diff - margin) / self.se)
        return float(max(above, below))

    def detectable(self) -> float:
        """The smallest true contrast this design finds with POWER at ALPHA (two-sided), with its own spread."""
        return detectable_difference(self.se, self.dof) if self.has_interval else math.nan

    def provable_margin(self) -> float:
        """The smallest equivalence margin this design shows with POWER when the true contrast is 0."""
        return smallest_margin(self.se, self.dof) if self.has_interval else math.nan


@lru_cache(maxsize=65536)
def t_quantile(q: float, dof: float) -> float:
    """The t distribution's quantile for 0 < q < 1, kept per (q, dof): a ledger asks the same few thousands of times
    (each line's interval, power and seeds needed, for its Markdown, its CSV and its printed summary)."""
    return float(special.stdtrit(dof, q))


def paired_estimate(cells: Sequence[CellSample], floor: float) -> Estimate | None:
    """The paired design over the seeds every cell shares (None with fewer than two, or a seed twice in a cell)."""
    shared = shared_seeds(cells)
    if len(shared) < 2:
        return None
    by_seed = [dict(zip(c.seeds, c.values)) for c in cells]
    contrasts = [sum(c.coef * values[s] for c, values in zip(cells, by_seed)) for s in shared]
    sd = statistics.stdev(contrasts)
    spread = max(sd, floor)
    n = len(contrasts)
    return Estimate(PAIRED, statistics.fmean(contrasts), spread / math.sqrt(n), n - 1, sd < floor, n)


def shared_seeds(cells: Sequence[CellSample]) -> list[Any]:
    """The seeds every cell has, in the first cell's order (none where a cell has a seed twice)."""
    if any(len(set(c.seeds)) != len(c.seeds) or len(c.seeds) != c.n for c in cells):
        return []
    common = set.intersection(*(set(c.seeds) for c in cells)) if cells else set()
    return [s for s in cells[0].seeds if s in common] if cells else []


def welch_estimate(cells: Sequence[CellSample], floor: float) -> Estimate:
    """Each cell on its own, every run counted (no interval where a cell has fewer than two runs)."""
    diff = sum(c.coef * c.mean for c in cells)
    if any(c.n < 2 for c in cells):
        return Estimate(NO_INTERVAL, diff, math.nan, 0.0)
    sds = [statistics.stdev(c.values) for c in cells]
    return summary_estimate([c.coef for c in cells], [c.mean for c in cells], sds, [c.n for c in cells], floor)


def summary_estimate(
    coefs: Sequence[float],
    means: Sequence[float],
    sds: Sequence[float],
    ns: Sequence[int],
    floor: float | Sequence[float],
) -> Estimate:
    """Welch's design from each cell's mean, standard deviation and count (how the paper's own interval is
    computed from its printed mean ± std over its runs); `floor`: one for all cells, or each cell's."""
    floors = [floor] * len(sds) if isinstance(floor, (int, float)) else list(floor)
    floored = any(sd < f for sd, f in zip(sds, floors))
    parts = [(c * max(sd, f)) ** 2 / n for c, sd, f, n in zip(coefs, sds, floors, ns)]
    variance = sum(parts)
    dof = variance**2 / sum(p**2 / (n - 1) for p, n in zip(parts, ns))
    diff = sum(c * m for c, m in zip(coefs, means))
    return Estimate(WELCH, diff, math.sqrt(variance), dof, floored)


# ------------------------------------------------------------------------------------------------ power


def power_two_sided(effect: float, se: float, dof: float, alpha: float = ALPHA) -> float:
    """P(a two-sided t-test at alpha rejects 0) when the true contrast is `effect` (noncentral t)."""
    crit = t_quantile(1 - alpha / 2, dof)
    shift = abs(effect) / se
    return _above(crit, dof, shift) + _below(-crit, dof, shift)


def power_equivalence(effect: float, margin: float, se: float, dof: float, alpha: float = ALPHA) -> float:
    """P(two one-sided tests at alpha show |contrast| < margin) when the true contrast is `effect` (noncentral t;
    0 when the 90% interval cannot fit inside the margin)."""
    crit = t_quantile(1 - alpha, dof)
    above = _above(crit, dof, (effect + margin) / se)
    below = _below(-crit, dof, (effect - margin) / se)
    return max(0.0, above + below - 1.0)


@lru_cache(maxsize=65536)
def _above(x: float, dof: float, shift: float) -> float:
    """P(T > x) for a noncentral t; far in its tail scipy gives NaN, where the answer is 0 or 1. Computed as
    P(-T < -x), -T being the noncentral t of shift -shift: scipy.special has no public noncentral t tail, and 1 - cdf
    would lose the tail's digits."""
    p = float(special.nctdtr(dof, -shift, -x))
    return p if not math.isnan(p) else float(shift > x)


@lru_cache(maxsize=65536)
def _below(x: float, dof: float, shift: float) -> float:
    p = float(special.nctdtr(dof, shift, x))
    return p if not math.isnan(p) else float(shift < x)


def detectable_difference(se: float, dof: float, power: float = POWER) -> float:
    """The smallest |contrast| a two-sided test at ALPHA finds with `power`, for this standard error."""
    return se * _detectable_in_se(dof, power)


def smallest_margin(se: float, dof: float, power: float = POWER) -> float:
    """The smallest equivalence margin shown with `power` when the true contrast is 0."""
    return se * _margin_in_se(dof, power)


@lru_cache(maxsize=4096)
def _detectable_in_se(dof: float, power: float) -> float:
    """`detectable_difference` in standard errors: a root search on the noncentral t that depends on the degrees of
    freedom alone, found once per dof (a ledger asks it of each line several times, and most lines share a dof)."""
    return optimize.brentq(lambda k: power_two_sided(k, 1.0, dof) - power, 0.0, 1e3)


@lru_cache(maxsize=4096)
def _margin_in_se(dof: float, power: float) -> float:
    """`smallest_margin` in standard errors, found once per dof as above."""
    return optimize.brentq(lambda k: power_equivalence(0.0, k, 1.0, dof) - power, 1e-9, 1e3)


@dataclass(frozen=True)
class Spread:
    """How a contrast's standard error and degrees of freedom grow with the seeds per cell: from per-seed contrasts
    (paired: their sd) or from each cell's sd (Welch, the same seeds per cell)."""

    paired_sd: float | None = None
    cell_sds: tuple[float, ...] = ()
    coefs: tuple[float, ...] = ()

    def at(self, n: int) -> tuple[float, float]:
        """(se, dof) with n seeds per cell."""
        if self.paired_sd is not None:
            return self.paired_sd / math.sqrt(n), n - 1.0
        parts = [(c * sd) ** 2 / n for c, sd in zip(self.coefs, self.cell_sds)]
        return math.sqrt(sum(parts)), sum(parts) ** 2 / sum(p**2 / (n - 1) for p in parts)


@lru_cache(maxsize=4096)
def seeds_needed(effect: float, spread: Spread, margin: float | None = None) -> int | None:
    """The fewest seeds per cell that find `effect` with POWER (two-sided, at ALPHA), or with a margin, that show
    equivalence within it when the true contrast is `effect`; None: more than MAX_SEEDS (or an equivalence the
    effect itself rules out). Kept per question, as the quantiles above: a ledger line's Markdown, CSV and printed
    summary each ask it."""
    if margin is not None and abs(effect) >= margin:
        return None
    for n in range(2, MAX_SEEDS + 1):
        se, dof = spread.at(n)
        if se == 0.0:
            return n
        power = power_two_sided(effect, se, dof) if margin is None else power_equivalence(effect, margin, se, dof)
        if power >= POWER:
            return n
    return None


# ------------------------------------------------------------------------------------------------ multiplicity


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (valid whatever the tests' dependence: lines sharing a cell included);
    NaN stays NaN and is not counted as a test."""
    tested = sorted((p, i) for i, p in enumerate(pvalues) if not math.isnan(p))
    adjusted = [math.nan] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(tested):
        running = max(running, min(1.0, (len(tested) - rank) * p))
        adjusted[i] = running
    return adjusted
