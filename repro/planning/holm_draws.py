"""How many of a plan's claims are expected to hold after the ledger's Holm correction, simulated: the ledger's
family of tests (repro/claims/judgement.py, `judge_claims`: each claim's p the largest of its lines', claims making
the same test of the very same runs counted once, Holm's step-down at 5% family-wise over them) on HOLM_DRAWS
fabricated sets of the plan's runs, each line's statistics computed at once over all the draws as
repro/claims/stats.py computes them one at a time (paired or Welch's, the floor), a line bought until decided walked
through the stage's looks and taking its repeated p where it stopped (repro/claims/sequential.py).

The lines' tests are dependent where they share a cell (every gain over one baseline), which Holm allows and which
the draws keep: a cell's seeds are one standard normal draw shared by all its lines, each line scaling it by its own
sd of the cell (the plan's spread); its true contrast is the line's under the truth asked (the paper's, half, none).
A fixed seed: every plan states the same figure."""

from __future__ import annotations

import math
from typing import Hashable

import numpy as np
from scipy import special

from repro.claims.sequential import at_look, repeated_p_rows
from repro.claims.stats import PAIRED, holm_rows
from repro.planning.expect import Judged, Truth

HOLM_DRAWS = 4000  # fabricated sets of the plan's runs (the count's error: about 0.01 claims per claim tested)
HOLM_SEED = 8_120  # fixed: every plan states the same figure


class CellDraws:
    """Standard normal draws of each cell's seeds (draws x seeds), shared by every line of the cell."""

    def __init__(self, draws: int, seed: int) -> None:
        self.rng, self.draws, self.found = np.random.default_rng(seed), draws, {}

    def of(self, key: Hashable, seeds: int) -> np.ndarray:
        have = self.found.get(key, np.empty((self.draws, 0)))
        if have.shape[1] < seeds:
            have = np.hstack([have, self.rng.standard_normal((self.draws, seeds - have.shape[1]))])
            self.found[key] = have
        return have[:, :seeds]


def expected_holds(judged: list[Judged], truth: Truth, draws: int = HOLM_DRAWS) -> float:
    """The claims of `judged` expected to hold after Holm's correction when every contrast is `truth`'s."""
    cells = CellDraws(draws, HOLM_SEED)
    claims: dict[tuple, list] = {}
    for found in judged:
        line = found.line
        entry = claims.setdefault((line.table, line.claim.name), [[], [], line.claim.kind.judge.threshold])
        entry[0].append(line_p(found, truth, cells))
        entry[1].append(_line_key(found))
    tests: dict[tuple, int] = {}
    columns, thresholds, of_claim = [], [], []
    for p_values, keys, threshold in claims.values():
        key = tuple(sorted(keys))
        if key not in tests:
            tests[key] = len(columns)
            columns.append(np.maximum.reduce(p_values))
            thresholds.append(threshold)
        of_claim.append(tests[key])
    if not columns:
        return 0.0
    adjusted = holm_rows(np.column_stack(columns))
    holding = adjusted < np.array(thresholds)
    return float(holding[:, of_claim].sum(axis=1).mean())


def _line_key(found: Judged) -> tuple:
    """The line's test (the ledger's `Line.key`): what it asks of which cells' runs."""
    line, model = found.line, found.line.model
    return (line.claim.kind.judge.name, model.margin, model.side, tuple(zip(model.spread.coefs, line.terms)),
            found.seeds)  # fmt: skip


def _cell_values(found: Judged, cells: CellDraws, seeds: tuple[int, ...]) -> list[np.ndarray]:
    """Each term's cell's seeds, its noise at the line's sd of the cell (draws x its seeds)."""
    line = found.line
    sds = line.model.spread.per_cell()
    return [sd * cells.of((line.table, cell), n) for sd, cell, n in zip(sds, line.terms, seeds)]


def line_p(found: Judged, truth: Truth, cells: CellDraws) -> np.ndarray:
    """The line's p-value in each draw, as the ledger's judge gives it."""
    model, value = found.line.model, found.truth(truth)
    if found.seeds is None:
        return _sequential_p(found, value, cells)
    parts = _cell_values(found, cells, found.seeds)
    coefs, floor = model.spread.coefs, model.floor
    if model.design is PAIRED and len(set(found.seeds)) == 1 and len(parts) > 1:
        contrasts = value + sum(c * v for c, v in zip(coefs, parts))
        n = found.seeds[0]
        diff = contrasts.mean(axis=1)
        se = np.maximum(contrasts.std(axis=1, ddof=1), floor) / math.sqrt(n)
        dof = np.full(diff.shape, n - 1.0)
    else:
        diff = value + sum(c * v.mean(axis=1) for c, v in zip(coefs, parts))
        pieces = [(c * np.maximum(v.std(axis=1, ddof=1), floor)) ** 2 / v.shape[1] for c, v in zip(coefs, parts)]
        variance = sum(pieces)
        dof = variance**2 / sum(p**2 / (v.shape[1] - 1) for p, v in zip(pieces, parts))
        se = np.sqrt(variance)
    if model.margin is None:
        return special.stdtr(dof, -model.side * diff / se)
    return np.maximum(special.stdtr(dof, -(diff + model.margin) / se), special.stdtr(dof, (diff - model.margin) / se))


def _sequential_p(found: Judged, value: float, cells: CellDraws) -> np.ndarray:
    """A line bought until decided: its repeated p at the look where it stopped, or at its last."""
    line, model, looks = found.line, found.line.model, found.line.looks
    assert looks is not None
    most = looks.seeds[-1]
    parts = _cell_values(found, cells, (most,) * len(line.terms))
    contrasts = value + sum(c * v for c, v in zip(model.spread.coefs, parts))
    p = np.full(cells.draws, 0.5)
    stopped = np.zeros(cells.draws, dtype=bool)
    for k, n in enumerate(looks.seeds):
        now = at_look(looks, k, contrasts[:, :n], model.floor, paper=model.paper, margin=model.margin)
        fresh = ~stopped & (now.stop | (k == len(looks.seeds) - 1))
        if model.margin is None:
            allowed = model.side * now.diff / now.se
        else:
            allowed = (model.margin - np.abs(now.diff)) / now.se
        p[fresh] = repeated_p_rows(looks, np.full(int(fresh.sum()), k), allowed[fresh])
        stopped |= now.stop
    return p
