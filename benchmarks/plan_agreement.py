"""Does `repro plan` state what the ledger will decide? The plan printed at each budget, its runs fabricated (each
cell's seeds normal about the truth: every line's contrast the paper's, half of it or none; the noise the plan's
spread, one draw per cell and seed shared by every line of the cell) and judged by the ledger's own code
(repro/claims/judgement.py: each line's `Line.verdict` and its decision, `judge_claims`' Holm correction; a line bought
until decided walked through the stage's looks, `at_look` and `sequential_verdict`, and entering Holm with its
repeated p), REPLICATES times; beside it, what the plan states (repro/planning/expect.py).

    .venv/bin/python -m benchmarks.plan_agreement                       # 50, 200 and 1000 GPU-hours
    .venv/bin/python -m benchmarks.plan_agreement --budgets 200 --replicates 2000 --until-decided
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from tabulate import tabulate

from repro.claims.claim import Claim
from repro.claims.decision import DECISIONS, LineModel
from repro.claims.judgement import Line, LineCell, judge_claims
from repro.claims.sequential import at_look, repeated_p
from repro.claims.sequential_record import DECIDED, UNDECIDED, LineRecord
from repro.claims.stats import PAIRED, CellSample
from repro.claims.verdicts import sequential_verdict
from repro.planning.budget_plan import BudgetPlan, plan_within, price_tables
from repro.planning.expect import Judged, Truth
from repro.sweep.budget.calibration import load_calibration

BUDGETS = (50.0, 200.0, 1000.0)
REPLICATES = 1000
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


def compare(plan: BudgetPlan, replicates: int) -> list[list[str]]:
    """Per truth: the stated and simulated decided lines (and each kind), the worst line's gap, the claims holding."""
    rows = []
    for expected in plan.expected:
        shares, holds = ledger_outcomes(plan.judged, expected.truth, replicates)
        stated = np.array([j.outcomes(expected.truth).chances for j in plan.judged])
        rows.append([
            f"{plan.budget:g}", expected.truth.name, f"{stated.sum():.2f}", f"{shares.sum():.2f}",
            " / ".join(f"{a:.2f} vs {b:.2f}" for a, b in zip(stated.sum(axis=0), shares.sum(axis=0))),
            f"{np.abs(stated.sum(axis=1) - shares.sum(axis=1)).max():.3f}",
            f"{expected.holds:.2f} vs {holds:.2f}",
        ])  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budgets", type=float, nargs="+", default=list(BUDGETS), metavar="HOURS")
    parser.add_argument("--replicates", type=int, default=REPLICATES)
    parser.add_argument("--until-decided", action="store_true", help="offer seeds until decided too")
    parser.add_argument("--gpu", help="a `repro bench` calibration's GPU (default: as `repro sweep`)")
    args = parser.parse_args(argv)
    cal = load_calibration(args.gpu)
    tables = price_tables(cal, until_decided=args.until_decided)
    rows = []
    for budget in args.budgets:
        rows += compare(plan_within(tables, budget, cal), args.replicates)
    headers = ["budget", "truth", "decided: stated", "ledger", "kinds (" + ", ".join(map(str, DECISIONS)) + ")",
               "worst line", "claims holding: stated vs ledger"]  # fmt: skip
    print(f"{args.replicates} replicates of each plan's runs judged by the ledger ({cal.gpu}):")
    print(tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
