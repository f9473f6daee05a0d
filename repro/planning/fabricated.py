"""The printed plan's runs fabricated and judged by the ledger's own code: what `repro plan` states it expects is
checked against this (benchmarks/plan_agreement.py; tests/claims/test_decision.py per line). Each cell's seeds are
normal about the truth (every line's contrast the paper's, half of it or none; the noise the plan's spread, one draw
per cell and seed shared by every line of the cell), each line judged by `Line.verdict` and the claims by
`judge_claims`' Holm correction; a line bought until decided is walked through the stage's looks (`at_look`,
`sequential_verdict`) and enters Holm with its repeated p."""

from __future__ import annotations

import numpy as np

from repro.claims.claim import Claim
from repro.claims.decision import DECISIONS, LineModel
from repro.claims.judgement import Line, LineCell, judge_claims
from repro.claims.sequential import at_look, repeated_p
from repro.claims.sequential_record import DECIDED, UNDECIDED, LineRecord
from repro.claims.stats import PAIRED, CellSample
from repro.claims.verdicts import sequential_verdict
from repro.planning.expect import Judged, Truth

SEED = 80


def fabricated_line(found: Judged, truth: Truth, noise: dict, rng: np.random.Generator) -> Line:
    """The plan's line as the ledger builds it from fabricated runs (until decided: its most seeds, walked)."""
    line = found.line
    seeds = found.seeds or (line.looks.seeds[-1],) * len(line.terms)
    judged = ledger_line(line.claim, line.column, line.model, line.terms, seeds, found.truth(truth), noise, rng)
    if found.seeds is None:
        judged.sequential = walked(judged, found)
    return judged


def ledger_line(claim: Claim, anchor: str, model: LineModel, cells, seeds: tuple[int, ...], truth: float,
                noise: dict, rng: np.random.Generator) -> Line:  # fmt: skip
    """A line as the ledger builds it from fabricated runs of its `cells` ((row, column) each): each cell's seeds
    the standard normal draws kept for that cell in `noise` (drawn where missing: shared by every line of the cell),
    at the model's sd of the cell; the first cell's mean the true contrast, the others 0; paired where the model's
    design is."""
    found = []
    for i, (coef, sd, cell, n) in enumerate(zip(model.spread.coefs, model.spread.per_cell(), cells, seeds)):
        key = (claim.table, *cell)
        have = noise.get(key, np.empty(0))
        if have.size < n:
            have = noise[key] = np.concatenate([have, rng.standard_normal(n - have.size)])
        mean = truth / coef if i == 0 else 0.0
        values = tuple(float(v) for v in mean + sd * have[:n])
        found.append(LineCell(cell[0], cell[1], CellSample(coef, values, tuple(range(n)))))
    draws = ("initialisation",) if model.design is PAIRED else ()
    paper = claim.paper_difference(anchor)
    return Line(claim, anchor, tuple(found), paper, claim.kind.judge, model.floor, shared_draws=draws)


def walked(line: Line, found: Judged) -> LineRecord:
    """The until-decided stage's record of the line: its looks walked on the first seeds, as the stage walks them."""
    model, looks = found.line.model, found.line.looks
    per_seed = sum(np.array(c.sample.values) * c.sample.coef for c in line.cells)
    for k, n in enumerate(looks.seeds):
        now = at_look(looks, k, per_seed[None, :n], model.floor, paper=model.paper, margin=model.margin)
        last = k == len(looks.seeds) - 1
        if bool(now.stop[0]) or last:
            low, high = float(now.low[0]), float(now.high[0])
            verdict = sequential_verdict(low, high, model.paper, model.side, model.margin)
            diff, se = float(now.diff[0]), float(now.se[0])
            allowed = model.side * diff / se if model.margin is None else (model.margin - abs(diff)) / se
            state = DECIDED if bool(now.stop[0]) else UNDECIDED
            return LineRecord(line.claim.table, line.claim.name, line.anchor, state, n, k + 1, len(looks.seeds),
                              str(verdict), low, high, p=repeated_p(looks, k, allowed))  # fmt: skip
    raise AssertionError("a walk ends at its last look")


def ledger_outcomes(judged: list[Judged], truth: Truth, replicates: int, seed: int = SEED):
    """Per line, the share of replicates its ledger verdict makes each decision (DECISIONS' order), and the mean
    count of claims holding after the ledger's Holm correction."""
    rng = np.random.default_rng(seed)
    counts = np.zeros((len(judged), len(DECISIONS)))
    holding = 0
    for _ in range(replicates):
        noise: dict = {}
        lines = [fabricated_line(found, truth, noise, rng) for found in judged]
        for i, line in enumerate(lines):
            decision = line.verdict.decision
            if decision is not None:
                counts[i, DECISIONS.index(decision)] += 1
        holding += sum(bool(claim.holds) for claim in judge_claims(lines))
    return counts / replicates, holding / replicates
