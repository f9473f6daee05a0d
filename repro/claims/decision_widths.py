"""The distribution of a line's interval half-width h = q x se, which is all that is random in the ledger's decision
once the contrast's mean is known to be normal and independent of it (repro/claims/decision.py).

- Paired: se = max(s, floor) / sqrt(n), s the sd of n per-seed contrasts, s^2 ~ sigma^2 chi^2(n-1) / (n-1), q the t
  quantile at n-1 degrees of freedom. Integrated exactly: Gauss-Legendre nodes on the chi-square distribution's
  probability scale (its quantiles, scipy's chdtri), so every node is an equally likely sd and no tail is cut.
- Welch: se^2 = sum_i (c_i max(s_i, floor))^2 / n_i with each cell's own sd, q at the Welch-Satterthwaite degrees of
  freedom, which depend on all the sds: simulated, WELCH_DRAWS draws of the cells' sds with a fixed seed (so every
  command states the same numbers), the mean's part still exact given each draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special

from repro.claims.stats import t_quantile

NODES = 128  # Gauss-Legendre nodes over the sd's distribution (error below 1e-5 against scipy's noncentral t)
WELCH_DRAWS = 8_000  # simulated sds of Welch's cells (the chances' error: about 0.002)
WELCH_SEED = 8_020  # fixed: every plan, dry run and ledger states the same numbers


@dataclass(frozen=True)
class Widths:
    """Half-widths h (nodes or draws) with their weights, and the sd of the contrast's mean (`se`)."""

    half: np.ndarray
    weights: np.ndarray
    se: float


@lru_cache(maxsize=1)
def _legendre() -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on (0, 1)."""
    x, w = special.roots_legendre(NODES)
    return (x + 1.0) / 2.0, w / 2.0


@lru_cache(maxsize=256)
def _chi_nodes(dof: int) -> tuple[np.ndarray, np.ndarray]:
    """s / sigma at the Gauss-Legendre nodes of the chi distribution's probability scale, with their weights."""
    u, w = _legendre()
    return np.sqrt(special.chdtri(dof, 1.0 - u) / dof), w


@lru_cache(maxsize=4096)
def paired_widths(sd: float, n: int, floor: float, level: float) -> Widths:
    """The paired design's half-widths at n seeds, per-seed contrasts of sd `sd`, the interval's quantile `level`."""
    unit, weights = _chi_nodes(n - 1)
    half = t_quantile(level, n - 1.0) * np.maximum(sd * unit, floor) / math.sqrt(n)
    return Widths(half, weights, sd / math.sqrt(n))


@lru_cache(maxsize=64)
def _chi_draws(counts: tuple[int, ...]) -> np.ndarray:
    """Draws of s_i / sigma_i for cells of `counts` runs (draws x cells), a fixed seed."""
    rng = np.random.default_rng(WELCH_SEED)
    dof = np.array(counts, dtype=float) - 1.0
    return np.sqrt(rng.chisquare(dof, size=(WELCH_DRAWS, len(counts))) / dof)


@lru_cache(maxsize=8)
def _t_curve(level: float):
    """The t quantile at `level` as a function of the degrees of freedom: scipy's stdtrit on a grid fine in log(dof)
    (relative error below 1e-5 between its points), so that thousands of Welch draws cost one interpolation."""
    grid = np.geomspace(1.0, 1e7, 10_000)
    quantiles = special.stdtrit(grid, level)
    return lambda dof: np.interp(np.log(np.maximum(dof, 1.0)), np.log(grid), quantiles)


@lru_cache(maxsize=64)  # each holds WELCH_DRAWS half-widths
def welch_widths(
    coefs: tuple[float, ...], sds: tuple[float, ...], counts: tuple[int, ...], floor: float, level: float
) -> Widths:
    """Welch's half-widths for cells of sds `sds` and `counts` runs, as repro/claims/stats.py's summary_estimate
    computes its interval from each draw."""
    c, sigma, n = (np.array(v, dtype=float) for v in (coefs, sds, counts))
    spread = np.maximum(sigma * _chi_draws(counts), floor)
    parts = (c * spread) ** 2 / n
    variance = parts.sum(axis=1)
    dof = variance**2 / (parts**2 / (n - 1.0)).sum(axis=1)
    half = _t_curve(level)(dof) * np.sqrt(variance)
    weights = np.full(len(half), 1.0 / len(half))
    return Widths(half, weights, float(np.sqrt(((c * sigma) ** 2 / n).sum())))
