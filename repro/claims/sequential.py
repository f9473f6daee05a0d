"""Group-sequential seeds: when a claim's line may look at its runs after each round of seeds and stop, the error
rate is held over all its looks. `repro sweep FILE --until-decided` (repro/sweep/stages/until_decided/) adds seeds in
rounds to the lines the file's seeds left undecided; this module is the design it stops by, so the sweep, its dry
run and the ledger state one design.

The design (Jennison and Turnbull's repeated confidence intervals, with Lan and DeMets' alpha spending):

- looks at n_1 < n_2 < ... < n_K seeds per cell: n_1 the seeds a sweep starts with, then `per_round` more per round,
  up to `max_seeds`; information fraction t_k = n_k / n_K;
- the two-sided level (5%; a comparable claim's 10%, its two one-sided 5% tests) is spent over the looks by the
  spending function, O'Brien-Fleming-type `2 - 2 Phi(z_(alpha/2) / sqrt(t))` (the default: almost nothing early,
  almost the fixed-sample level at the last, so it decides the most at the stated error, benchmarks/
  sequential_errors.py) or Pocock-type `alpha * ln(1 + (e - 1) t)` (about the same level at every look, so a large
  gain stops at the first);
- the boundaries c_k are on the paired t statistics themselves, calibrated once by simulating them under no effect
  (repro/claims/sequential_bounds.py): with 2-10 seeds the t statistics' few degrees of freedom make the usual
  normal boundaries, taken to each look's t quantile, let through more than the level (docs/sequential-seeds.md);
  the collapse guard calibrates them also on seeds that sometimes collapse, on the lines where a method declares its
  seeds may collapse (the default) or on every line;
- at look k the line's interval is its paired estimate ± c_k x se (a repeated confidence interval);
- a directional line (a gain, an interaction's difference of differences) stops when that interval excludes 0 (its
  sign is decided, either way) or excludes the paper's contrast (the paper's size is ruled out); a comparable line
  stops when its interval lies inside ± margin (equivalent) or wholly beyond it (not equivalent). A line that has
  not stopped by n_K is undecided there.

As the intervals cover the true contrast at every look at once with probability 1 - alpha, every decision they make
is wrong with probability at most alpha (per side alpha / 2), however many looks were taken.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from dataclasses import fields as dataclass_fields
from functools import lru_cache
from typing import Any, Mapping, NamedTuple

import numpy as np

from repro.claims.sequential_bounds import COLLAPSES, SPENDING, boundaries, t_boundaries
from repro.claims.stats import ALPHA

SPENDING_NAMES = tuple(SPENDING)
DEFAULT_SPENDING = "obrien_fleming"  # decides the most at the stated error (docs/sequential-seeds.md)
DEFAULT_COLLAPSE_GUARD = False  # on every line it holds the level where seeds collapse, deciding a third as often
DEFAULT_GUARD_DECLARED = True  # on the lines of a method that declares its seeds may collapse: the level held there
DEFAULT_MAX_SEEDS = 10
MOST_REPEATED_LEVEL = 0.5  # the widest two-sided level `repeated_p` bisects on
REPEATED_LEVELS = 32  # levels `repeated_p_rows` interpolates between
STOP_DRAWS = 20_000  # simulated lines per question of the decision model (its error on a chance: at most 0.0035)


def repeated_p(looks: Looks, look: int, allowed: float) -> float:
    """Jennison and Turnbull's repeated p-value of a line at look `look` (0-based): half the smallest two-sided level
    whose repeated confidence interval there still decides the line, i.e. whose half-width multiplier is at most
    `allowed` (a gain on the paper's side: side x diff / se, the interval excludes 0 there; a comparable claim:
    (margin - |diff|) / se, the interval inside the margin). The intervals cover at every look at once, so this is a
    valid one-sided p-value (as the ledger's judges give them) whichever look the line stopped at, and Holm's
    correction may take it beside fixed-sample ones. Bisection on the level, to 1e-4 of it, up to a two-sided 50%
    (a one-sided 25%; beyond it 0.5, which no correction counts): O'Brien-Fleming-type spending at a level near 100%
    spends it all at the first look, which leaves the later looks no boundary to bisect on."""
    if not allowed > 0.0:
        return 0.5  # no level's interval decides the line on the paper's side
    low, high = 1e-8, MOST_REPEATED_LEVEL
    if boundaries(looks.seeds, high, looks.spending, look + 1, looks.guard)[look] > allowed:
        return 0.5
    while high - low > 1e-4 * high:
        mid = math.sqrt(low * high)
        if boundaries(looks.seeds, mid, looks.spending, look + 1, looks.guard)[look] <= allowed:
            high = mid
        else:
            low = mid
    return high / 2.0


@lru_cache(maxsize=16)
def _repeated_grid(looks: Looks) -> tuple[np.ndarray, np.ndarray]:
    """Each look's boundary (looks x levels) at REPEATED_LEVELS two-sided levels, log-spaced up to the widest
    `repeated_p` bisects on, as `repeated_p` computes each."""
    levels = np.geomspace(1e-8, MOST_REPEATED_LEVEL, REPEATED_LEVELS)
    rows = [boundaries(looks.seeds, float(a), looks.spending, len(looks.seeds), looks.guard) for a in levels]
    return levels, np.minimum(np.array(rows, dtype=float).T, 1e12)


def repeated_p_rows(looks: Looks, look: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """`repeated_p` of many lines at once (each at its 0-based look, with its allowed multiplier), interpolated in the
    log of the level between REPEATED_LEVELS levels (repro/planning/expect.py simulates Holm's correction with it)."""
    levels, bounds = _repeated_grid(looks)
    p = np.full(np.shape(allowed), 0.5)
    for k in np.unique(look):
        at = look == k
        reach = np.log(np.maximum(allowed[at], 1e-300))
        found = np.exp(np.interp(-reach, -np.log(bounds[k]), np.log(levels))) / 2.0
        p[at] = np.where((allowed[at] > 0.0) & (allowed[at] >= bounds[k][-1]), found, 0.5)
    return p


@dataclass(frozen=True)
class SequentialDesign:
    """How a sweep adds seeds where a claim is undecided: at most `max_seeds` per cell, `per_round` more a round, the
    level spent by `spending` (one of SPENDING_NAMES). The collapse guard's boundaries hold the level under seeds that
    collapse too (repro/claims/sequential_bounds.py), at a cost in decisions (docs/sequential-seeds.md): with
    `collapse_guard` on every line; with `guard_declared` (the default) on the lines where a method of the line declares
    that its seeds may collapse (`MethodDeclaration.seeds_may_collapse`), so the others keep their decisions."""

    max_seeds: int = DEFAULT_MAX_SEEDS
    per_round: int = 1
    spending: str = DEFAULT_SPENDING
    collapse_guard: bool = DEFAULT_COLLAPSE_GUARD
    guard_declared: bool = DEFAULT_GUARD_DECLARED

    def at(self, first: int, collapsing: bool = False) -> Looks:
        """The design's looks for a sweep that starts with `first` seeds per cell, on a line where a method declares
        its seeds may collapse (`collapsing`) or not."""
        guard = self.collapse_guard or (self.guard_declared and collapsing)
        return Looks(self.looks(first), self.spending, guard)

    def looks(self, first: int) -> tuple[int, ...]:
        """The seeds per cell at each look, from the `first` a sweep starts with (one look where that is already
        `max_seeds` or more)."""
        if first >= self.max_seeds:
            return (first,)
        found = list(range(first, self.max_seeds, self.per_round))
        return (*found, self.max_seeds)

    def fields(self, first: int) -> dict[str, Any]:
        """The design as a sweep records it (sequential.json), with the seeds it starts with: what `recorded_as`
        compares."""
        return {**asdict(self), "first": first}

    def recorded_as(self, fields: Mapping[str, Any] | None, text: str, first: int) -> SequentialDesign:
        """The design a sweep recorded it walked by (its sequential.json), whichever default was current then, where
        it has these looks: by the recorded `fields` (`fields`), or, in a record kept before designs were recorded
        so, by its sentence `text`; this one where the record names no design of these looks."""
        if fields is not None:
            kinds = {f.name: type(getattr(self, f.name)) for f in dataclass_fields(self)}
            recorded = replace(self, **{k: v for k, v in fields.items() if type(v) is kinds.get(k)})
            same_looks = recorded.looks(first) == self.looks(first) and fields.get("first") == first
            return recorded if same_looks and recorded.spending in SPENDING_NAMES else self
        same = [
            replace(self, spending=s, collapse_guard=g, guard_declared=d)
            for s in SPENDING_NAMES
            for g in (False, True)
            for d in (False, True)
        ]
        return next((design for design in same if design.text(first) == text), self)

    def text(self, first: int) -> str:
        """The design in one sentence (printed with the verdicts, and in the ledger)."""
        looks = self.looks(first)
        _, words = SPENDING[self.spending]
        collapses = ", ".join(c.text() for c in COLLAPSES)
        guard = ""
        if self.collapse_guard:
            guard = f"; boundaries held also where seeds collapse ({collapses})"
        elif self.guard_declared:
            guard = (
                "; on a line of a method that declares its seeds may collapse, boundaries held also where seeds "
                f"collapse ({collapses})"
            )
        return (
            f"group-sequential: {len(looks)} look(s) at {', '.join(map(str, looks))} seeds per cell, repeated "
            f"confidence intervals at a two-sided {ALPHA:.0%} (comparable claims: {2 * ALPHA:.0%}, two one-sided "
            f"{ALPHA:.0%} tests) held over all looks by {words}, t = seeds / {looks[-1]}; a gain or interaction "
            "stops when its interval excludes 0 or the paper's contrast, a comparable claim when its interval is "
            "inside or wholly beyond the margin"
            + guard
        )  # fmt: skip


@dataclass(frozen=True)
class Looks:
    """One design's looks at the seeds a sweep started with (the seeds per cell at each), its spending and whether
    its boundaries are held also where seeds collapse."""

    seeds: tuple[int, ...]
    spending: str = DEFAULT_SPENDING
    guard: bool = DEFAULT_COLLAPSE_GUARD

    def multiplier(self, look: int, alpha: float) -> float:
        """The half-width of look `look`'s interval (0-based) in standard errors, for a line of level `alpha`."""
        return t_boundaries(self.seeds, alpha, self.spending, self.guard)[look]

    def look_of(self, seeds: int) -> int | None:
        """Which look (0-based) `seeds` per cell is, or None."""
        return self.seeds.index(seeds) if seeds in self.seeds else None


class AtLook(NamedTuple):
    """Lines at one look (vectorised): whether each stops, its paired estimate and se, its repeated interval."""

    stop: np.ndarray
    diff: np.ndarray
    se: np.ndarray
    low: np.ndarray
    high: np.ndarray


def at_look(looks: Looks, look: int, values: np.ndarray, floor: float, *, paper: float | None,
            margin: float | None) -> AtLook:  # fmt: skip
    """Lines at look `look` (0-based) of the design, from rows of per-seed contrasts `values` (lines x the look's
    seeds): the one decision the sweep's stage, its pricing and benchmarks/sequential_errors.py all take."""
    diff, se, dof = paired_statistics(values, floor)
    half = looks.multiplier(look, line_alpha(margin is not None))
    if margin is None:
        stop = directional_stop(diff, se, dof, half, paper)
    else:
        stop = equivalence_stop(diff, se, dof, half, margin)
    return AtLook(stop, diff, se, diff - half * se, diff + half * se)


def directional_stop(diff: np.ndarray, se: np.ndarray, dof: np.ndarray, half: float, paper: float | None) -> np.ndarray:
    """Whether a directional line stops (vectorised): its interval diff ± half x se excludes 0 or the paper's
    contrast."""
    low, high = diff - half * se, diff + half * se
    stop = (low > 0.0) | (high < 0.0)
    if paper is not None:
        stop |= (low > paper) | (high < paper)
    return stop & np.isfinite(se) & (dof > 0)


def equivalence_stop(diff: np.ndarray, se: np.ndarray, dof: np.ndarray, half: float, margin: float) -> np.ndarray:
    """Whether a comparable line stops (vectorised): its interval inside ± margin, or wholly beyond it."""
    low, high = diff - half * se, diff + half * se
    inside = (low > -margin) & (high < margin)
    beyond = (low >= margin) | (high <= -margin)
    return (inside | beyond) & np.isfinite(se) & (dof > 0)


def line_alpha(equivalence: bool) -> float:
    """The two-sided level a line's intervals keep over all looks (an equivalence: its two one-sided tests')."""
    return 2.0 * ALPHA if equivalence else ALPHA


def paired_statistics(values: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of per-seed contrasts `values` (draws x seeds): the paired design's mean, se (the sd at least
    `floor`) and degrees of freedom, as repro/claims/stats.py's paired_estimate computes them one at a time."""
    n = values.shape[-1]
    mean = values.mean(axis=-1)
    sd = values.std(axis=-1, ddof=1) if n > 1 else np.full(mean.shape, math.nan)
    se = np.maximum(sd, floor) / math.sqrt(n)
    return mean, se, np.full(mean.shape, n - 1.0)


def stop_probabilities(
    looks: Looks,
    effect: float,
    sd: float,
    floor: float,
    *,
    paper: float | None,
    margin: float | None,
    draws: int = 4000,
    seed: int = 0,
) -> tuple[float, ...]:
    """P(the line is still undecided after look k), k = 1..K-1 (the chance each further round is needed), when its
    per-seed contrast is normal with mean `effect` and standard deviation `sd` (a simulation with a fixed seed,
    so a plan is priced the same every time)."""
    rng = np.random.default_rng(seed)
    values = rng.normal(effect, max(sd, floor), size=(draws, looks.seeds[-1]))
    going = np.ones(draws, dtype=bool)
    left = []
    for k, n in enumerate(looks.seeds[:-1]):
        going &= ~at_look(looks, k, values[:, :n], floor, paper=paper, margin=margin).stop
        left.append(float(going.mean()))
    return tuple(left)


class Stopped(NamedTuple):
    """Simulated lines where each stopped (or at its last look): whether it stopped, its repeated interval there."""

    stop: np.ndarray
    low: np.ndarray
    high: np.ndarray


def stopped_intervals(
    looks: Looks, effect: float, sd: float, floor: float, *, paper: float | None, margin: float | None,
    draws: int = STOP_DRAWS, seed: int = 0,
) -> Stopped:  # fmt: skip
    """`draws` lines whose per-seed contrasts are normal with mean `effect` and standard deviation `sd`, each walked
    through the looks as the sweep's stage walks one (`at_look`): where it stopped, or at its last look. What the
    decision model (repro/claims/decision.py) reads the kinds of decision from."""
    rng = np.random.default_rng(seed)
    values = rng.normal(effect, max(sd, floor), size=(draws, looks.seeds[-1]))
    stop = np.zeros(draws, dtype=bool)
    low, high = np.full(draws, np.nan), np.full(draws, np.nan)
    for k, n in enumerate(looks.seeds):
        now = at_look(looks, k, values[:, :n], floor, paper=paper, margin=margin)
        fresh = ~stop & (now.stop | (k == len(looks.seeds) - 1))
        low[fresh], high[fresh] = now.low[fresh], now.high[fresh]
        stop |= now.stop
    return Stopped(stop, low, high)
