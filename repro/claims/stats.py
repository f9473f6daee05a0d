"""The statistics that judge a claim: a contrast over cells (a difference, or a difference of differences) with its
t-interval over seeds, the two one-sided tests of equivalence, and Holm's step-down correction. `repro ledger`
(analysis/ledger/) judges finished runs with them; what such a test will decide before any run (its power, what its
seeds detect, the seeds it needs) is repro/claims/decision.py's, which the ledger's columns, the dry run and `repro
plan` all ask.

A contrast is sum_i c_i x_i over cells i (c_i = +1 / -1: better minus worse; four cells for an interaction), each
cell a list of per-seed values. Two designs:

- paired: every cell has the same seeds (at least two); the per-seed contrasts d_s = sum_i c_i x_(i,s) give
  mean ± t(0.975, n-1) * sd(d) / sqrt(n), which removes what a seed gives every cell alike;
- Welch: each cell on its own, the sum of the means ± t(0.975, nu) * sqrt(sum_i c_i^2 s_i^2 / n_i), nu by
  Welch-Satterthwaite; it needs at least two runs per cell.

No spread is taken below `floor` (one test image, in the metric's units): identical per-seed values do not make a
zero-width interval, and a spread raised to the floor is flagged. The t quantiles and tails are scipy.special's
stdtrit and stdtr: scipy.stats.t calls these very functions, so the floats are theirs, without scipy.stats' import
(over a second) and its per-call argument checks (every caller here passes dof > 0 and 0 < q < 1).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

import numpy as np
from scipy import special

CONFIDENCE = 0.95  # two-sided intervals; the equivalence test uses the 90% interval (two one-sided 5% tests)
ALPHA = 1.0 - CONFIDENCE
POWER = 0.80  # what "detectable" means: found with this probability at ALPHA, two-sided
MAX_SEEDS = 100  # the seeds needed are searched up to this many per cell


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
    # what it was computed from (what repro/claims/decision.py estimates the line's power from): its sds as measured
    # (paired: the per-seed contrasts'; Welch: each cell's), each cell's runs and coefficient, and the floor
    sds: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()
    coefs: tuple[float, ...] = ()
    floor: float = 0.0

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
    coefs, counts = tuple(c.coef for c in cells), (n,) * len(cells)
    mean = statistics.fmean(contrasts)
    return Estimate(PAIRED, mean, spread / math.sqrt(n), n - 1, sd < floor, n, (sd,), counts, coefs, floor)


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
    floor_at = min(floors) if floors else 0.0
    facts = (tuple(sds), tuple(int(n) for n in ns), tuple(coefs), floor_at)
    return Estimate(WELCH, diff, math.sqrt(variance), dof, floored, 0, *facts)


# ------------------------------------------------------------------------------------------------ multiplicity


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (valid whatever the tests' dependence: lines sharing a cell included);
    NaN stays NaN and is not counted as a test."""
    found = np.array(pvalues, dtype=float).reshape(1, -1)
    return [float(p) for p in holm_rows(found)[0]]


def holm_rows(pvalues: np.ndarray) -> np.ndarray:
    """`holm` on each row of a (draws x tests) array at once (repro/planning/expect.py simulates a plan's
    correction with it); NaN stays NaN and is not counted as a test."""
    tested = ~np.isnan(pvalues)
    m = tested.sum(axis=1, keepdims=True)
    order = np.argsort(np.where(tested, pvalues, np.inf), axis=1, kind="stable")
    ranked = np.take_along_axis(pvalues, order, axis=1)
    scaled = np.minimum(1.0, (m - np.arange(pvalues.shape[1])) * ranked)
    running = np.maximum.accumulate(np.where(np.isnan(scaled), -np.inf, scaled), axis=1)
    adjusted = np.empty_like(pvalues)
    np.put_along_axis(adjusted, order, running, axis=1)
    return np.where(tested, adjusted, np.nan)
