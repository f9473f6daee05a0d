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

from repro.claims.decision import DECISIONS
from repro.planning.budget_plan import BudgetPlan, plan_within, price_tables
from repro.planning.fabricated import ledger_outcomes
from repro.sweep.budget.calibration import load_calibration

BUDGETS = (50.0, 200.0, 1000.0)
REPLICATES = 1000


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
