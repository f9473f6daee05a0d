"""The boundaries of the group-sequential design (repro/claims/sequential.py): each look's half-width, in standard
errors, of a line's repeated confidence interval, calibrated once by simulating the paired t statistics under no
effect.

With 2-10 seeds a look's t statistic has 1-9 degrees of freedom, and the usual boundaries, computed for normal
statistics and taken to each look's t quantile, let through more than the level; so the boundaries are found on the
t statistics themselves: the share of CALIBRATION_DRAWS simulated null paths (a fixed seed, so every plan, dry run
and ledger states the same boundaries) first crossing at look k is the level the spending function spends between
looks k-1 and k. The t statistic does not depend on the spread, so one simulation serves every line.

The collapse guard calibrates them on seeds that collapse as well: where a method's seeds sometimes collapse (a
seed's accuracy dropping by many seed-to-seed sds), most short sequences hold no collapse and their seeds sit above
the true mean, so boundaries calibrated on normal contrasts call a false gain up to three times as often as stated
(benchmarks/sequential_errors.py). No look at the seeds read can see a collapse that has not happened yet, so the
guard widens every look's boundary until each side crosses no more often than its share of the level under normal
contrasts and under each of COLLAPSES (and their mirror images: the other cell collapsing) alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np
from scipy import special

CALIBRATION_DRAWS = 200_000  # null paths the t boundaries are calibrated on
CALIBRATION_SEED = 20_240_601  # fixed: every plan, dry run and ledger states the same boundaries


@dataclass(frozen=True)
class Collapse:
    """Seeds that collapse: with `probability` a seed's contrast drops by `depth` seed-to-seed sds (of the
    seeds that do not collapse); the contrast's mean is the truth, so the others sit probability x depth above it."""

    probability: float
    depth: float

    def draw(self, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
        """Per-seed contrasts of mean 0 (not scaled: the t statistic is scale-free)."""
        return self.draw_marked(rng, shape)[0]

    def draw_marked(self, rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """`draw`'s contrasts, with which seeds collapsed."""
        dropped = rng.random(shape) < self.probability
        return rng.standard_normal(shape) - self.depth * (dropped - self.probability), dropped

    def text(self) -> str:
        return f"{self.probability:.0%} of seeds {self.depth:g} sds down"


COLLAPSES = (Collapse(0.05, 8.0), Collapse(0.1, 6.0), Collapse(0.2, 4.0))  # what the collapse guard holds against


def pocock_spent(t: float, alpha: float) -> float:
    """Lan-DeMets' Pocock-type spending: alpha x ln(1 + (e - 1) t)."""
    return alpha * math.log(1.0 + (math.e - 1.0) * t)


def obrien_fleming_spent(t: float, alpha: float) -> float:
    """Lan-DeMets' O'Brien-Fleming-type spending: 2 - 2 Phi(z_(alpha/2) / sqrt(t))."""
    return float(2.0 - 2.0 * special.ndtr(special.ndtri(1.0 - alpha / 2.0) / math.sqrt(t)))  # Phi, Phi^-1


SPENDING: dict[str, tuple[Callable[[float, float], float], str]] = {
    "pocock": (pocock_spent, "Lan-DeMets Pocock-type spending, alpha x ln(1 + (e - 1) t)"),
    "obrien_fleming": (obrien_fleming_spent, "Lan-DeMets O'Brien-Fleming-type spending, 2 - 2 Phi(z / sqrt(t))"),
}


def t_statistic(values: np.ndarray) -> np.ndarray:
    """The paired t statistic of each row of per-seed contrasts (mean / (sd / sqrt(n)))."""
    n = values.shape[-1]
    return values.mean(axis=-1) / (values.std(axis=-1, ddof=1) / math.sqrt(n))


@lru_cache(maxsize=64)
def t_boundaries(seeds: tuple[int, ...], alpha: float, spending: str, guard: bool = False) -> tuple[float, ...]:
    """Two-sided boundaries c_1..c_K on the paired t statistics at `seeds` per cell: under no effect, the chance a
    path first crosses at look k (|T_j| < c_j before it, |T_k| >= c_k) is the level the spending function spends
    between looks k-1 and k (with `guard`: at most that, per side, under normal contrasts and every collapse of
    COLLAPSES). Its error on the level is about sqrt(alpha / CALIBRATION_DRAWS)."""
    return boundaries(seeds, alpha, spending, len(seeds), guard)


def boundaries(seeds: tuple[int, ...], alpha: float, spending: str, up_to: int, guard: bool) -> tuple[float, ...]:
    """The first `up_to` boundaries of `t_boundaries` (a look's boundary depends only on the looks before it)."""
    spent_at, _ = SPENDING[spending]
    spent = [spent_at(n / seeds[-1], alpha) for n in seeds]
    if not guard:
        return _normal_boundaries(_null_statistics(seeds), spent[:up_to])
    return _guarded_boundaries(_guard_statistics(seeds), spent[:up_to])


def _normal_boundaries(stats_at: tuple[np.ndarray, ...], spent: list[float]) -> tuple[float, ...]:
    going = np.ones(CALIBRATION_DRAWS, dtype=bool)
    bounds = []
    for k, t_abs in enumerate(stats_at[: len(spent)]):
        step = spent[k] - (spent[k - 1] if k else 0.0)
        exits = int(round(step * CALIBRATION_DRAWS))
        live = t_abs[going]
        c = float(np.partition(live, live.size - exits)[live.size - exits]) if 0 < exits <= live.size else math.inf
        bounds.append(c)
        going &= t_abs < c
    return tuple(bounds)


def _guarded_boundaries(family: tuple[np.ndarray, ...], spent: list[float]) -> tuple[float, ...]:
    """Per look, the widest of each null's per-side boundary: every null's paths cross each side no more often
    than half the level spent so far."""
    going = [np.ones(CALIBRATION_DRAWS, dtype=bool) for _ in family]
    crossed = [[0, 0] for _ in family]  # per null: paths out above, below
    bounds = []
    for k in range(len(spent)):
        allowed = int(round(spent[k] / 2.0 * CALIBRATION_DRAWS))
        c = 0.0
        for t_at, live_of, out in zip(family, going, crossed):
            for side, sign in enumerate((1.0, -1.0)):
                live = sign * t_at[k][live_of]
                exits = allowed - out[side]
                if exits <= 0 or live.size == 0:
                    c = max(c, float(np.nextafter(live.max(), math.inf)) if live.size else c)
                elif exits <= live.size:
                    c = max(c, float(np.partition(live, live.size - exits)[live.size - exits]))
        bounds.append(c)
        for t_at, live_of, out in zip(family, going, crossed):
            now = t_at[k]
            out[0] += int(np.count_nonzero(live_of & (now >= c)))
            out[1] += int(np.count_nonzero(live_of & (now <= -c)))
            live_of &= np.abs(now) < c
    return tuple(bounds)


@lru_cache(maxsize=8)
def _null_statistics(seeds: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """|T| at each look of CALIBRATION_DRAWS paths of normal contrasts under no effect (a fixed seed)."""
    rng = np.random.default_rng(CALIBRATION_SEED)
    values = rng.standard_normal((CALIBRATION_DRAWS, seeds[-1]))
    return tuple(np.abs(t_statistic(values[:, :n])) for n in seeds)


@lru_cache(maxsize=4)
def _guard_statistics(seeds: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """T (signed, looks x paths, float32) under no effect for normal contrasts and each collapse of COLLAPSES."""
    rng = np.random.default_rng(CALIBRATION_SEED)
    shape = (CALIBRATION_DRAWS, seeds[-1])
    draws = [rng.standard_normal(shape), *(collapse.draw(rng, shape) for collapse in COLLAPSES)]
    return tuple(np.stack([t_statistic(v[:, :n]) for n in seeds]).astype(np.float32) for v in draws)
