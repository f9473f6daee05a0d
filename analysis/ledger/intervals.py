"""Our difference between two cells with a 95% confidence interval over seeds, and the verdict against the paper.

Paired where the two cells' runs share at least two seeds (one seed a run's split, initialisation and data order):
a t-interval on the per-seed differences over the shared seeds, mean ± t(0.975, n-1) · sd / √n (sd with ddof=1).
Otherwise, with at least two seeds a side, Welch's interval: the difference of the means ± t(0.975, ν) · √(s²₁/n₁ +
s²₂/n₂), ν from the Welch-Satterthwaite equation. With fewer there is no interval. The quantiles are scipy.stats.t's.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any, Sequence

from scipy import stats

CONFIDENCE = 0.95
SIGN_REPRODUCED = "sign reproduced"  # the interval excludes 0 on the paper's side
NOT_SIGNIFICANT = "not significant"  # the interval contains 0
OPPOSITE = "opposite"  # the interval excludes 0 on the other side
ONE_SEED = "one seed: no interval"
PAIRED, WELCH, NONE = "paired t", "Welch t", "none"


@dataclass(frozen=True)
class Comparison:
    """Ours: better minus worse, its interval (NaN bounds: none) and how it was computed."""

    diff: float
    low: float
    high: float
    test: str  # PAIRED, WELCH or NONE
    n_better: int
    n_worse: int
    n_pairs: int  # the shared seeds a paired interval used (0 otherwise)

    @property
    def has_interval(self) -> bool:
        return not math.isnan(self.low)

    def seeds_text(self) -> str:
        if self.test == PAIRED:
            return f"{self.n_pairs} paired"
        return f"{self.n_better} vs {self.n_worse}"

    def interval_text(self) -> str:
        return f"[{self.low:+.2f}, {self.high:+.2f}]" if self.has_interval else ""

    def verdict(self, paper_side: int) -> str:
        """Against the sign the paper found (+1: the better row is ahead)."""
        if not self.has_interval:
            return ONE_SEED
        if self.low <= 0.0 <= self.high:
            return NOT_SIGNIFICANT
        return SIGN_REPRODUCED if (self.low > 0.0) == (paper_side > 0) else OPPOSITE


def compare(better: Sequence[tuple[Any, float]], worse: Sequence[tuple[Any, float]]) -> Comparison:
    """`better` and `worse`: (seed, value) of each finished run of the two cells (at least one each)."""
    b_values, w_values = [v for _, v in better], [v for _, v in worse]
    b_seeds, w_seeds = [s for s, _ in better], [s for s, _ in worse]
    sizes = (len(b_values), len(w_values))
    unique = len(set(b_seeds)) == len(b_seeds) and len(set(w_seeds)) == len(w_seeds)
    shared = [s for s in b_seeds if s in set(w_seeds)] if unique else []
    if len(shared) >= 2:
        by_b, by_w = dict(better), dict(worse)
        diffs = [by_b[s] - by_w[s] for s in shared]
        mean = statistics.fmean(diffs)
        half = _quantile(len(diffs) - 1) * statistics.stdev(diffs) / math.sqrt(len(diffs))
        return Comparison(mean, mean - half, mean + half, PAIRED, *sizes, len(shared))
    diff = statistics.fmean(b_values) - statistics.fmean(w_values)
    if min(sizes) < 2:
        return Comparison(diff, math.nan, math.nan, NONE, *sizes, 0)
    var_b, var_w = statistics.variance(b_values) / sizes[0], statistics.variance(w_values) / sizes[1]
    se = math.sqrt(var_b + var_w)
    if se == 0.0:  # both sides without spread: the interval is the difference itself
        return Comparison(diff, diff, diff, WELCH, *sizes, 0)
    dof = (var_b + var_w) ** 2 / (var_b**2 / (sizes[0] - 1) + var_w**2 / (sizes[1] - 1))
    half = _quantile(dof) * se
    return Comparison(diff, diff - half, diff + half, WELCH, *sizes, 0)


def _quantile(dof: float) -> float:
    return float(stats.t.ppf(0.5 + CONFIDENCE / 2, dof))
