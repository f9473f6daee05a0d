"""Does `repro plan` buy more decided claims than the former greedy planner and the plans a user would make by hand?
The expected number of claim lines the ledger decides (repro/planning/expect.py: its own test, at the paper's truth,
from the paper's spread) at a few GPU-hour budgets, for:

- **repro plan**: the exact choice (repro/planning/choose.py) and its GPU-hours (what its commands' dry runs price);
- **former greedy**: the planner before it asked the ledger's decision model (benchmarks/former_planner.py), with the
  expected decisions it stated beside what the ledger would decide of its runs;
- **Table 1 whole**: Table 1's columns in the file's order, each whole (every row, every seed), while they fit;
- **tables in order**: the paper's tables in order, each whole while it fits, then the next table's columns in order
  while they fit (the money runs out inside it).

A hand plan's lines are those whose every run it bought. With `--truths H`, the plan at H GPU-hours and the former
greedy's, each kind of decision under three truths (the paper's contrasts, half of them, none), the claims holding
after Holm's correction and the GPU-hours.

    .venv/bin/python -m benchmarks.plan_budgets                       # 50, 100, 200, 300, 1000 H100-hours
    .venv/bin/python -m benchmarks.plan_budgets --budgets 200 --truths 200
"""

from __future__ import annotations

import argparse
import sys
from typing import Iterable

from tabulate import tabulate

from benchmarks.former_planner import former_plan
from repro.claims.decision import DECISIONS
from repro.planning.budget_plan import BudgetPlan, plan_within, price_tables
from repro.planning.lines import PricedTable
from repro.sweep.budget.calibration import load_calibration

BUDGETS = (50.0, 100.0, 200.0, 300.0, 1000.0)


def expected_of(bought: frozenset, tables: list[PricedTable]) -> float:
    """Expected decided lines of a hand plan: each line whose runs at the file's seeds it bought, at its P(decision)
    there (every cell of a bought column at the same seeds)."""
    return sum(line.item.options[-1].power for t in tables for line in t.lines if line.item.options[-1].runs <= bought)


def buy_in_order(chunks: Iterable[frozenset], hours: dict, budget: float) -> frozenset:
    """Chunks of runs bought in order while the next fits (a run already bought costs nothing again)."""
    bought: frozenset = frozenset()
    for chunk in chunks:
        if sum(hours[r] for r in bought | chunk) > budget:
            break
        bought |= chunk
    return bought


def columns_of(table: PricedTable) -> list[frozenset]:
    seeds = len(table.spec.seeds)
    return [table.runs_of(cells, seeds) for cells in table.columns()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budgets", type=float, nargs="+", default=list(BUDGETS), metavar="HOURS")
    parser.add_argument("--truths", type=float, metavar="HOURS", help="each kind under three truths at this budget")
    parser.add_argument("--gpu", help="a `repro bench` calibration's GPU (default: as `repro sweep`)")
    args = parser.parse_args(argv)
    cal = load_calibration(args.gpu)
    tables = price_tables(cal)
    hours = {k: v for t in tables for k, v in t.hours.items()}
    table_one = next(t for t in tables if t.table == 1)
    rows = []
    for budget in args.budgets:
        plan = plan_within(tables, budget, cal)
        former, stated = former_plan(tables, budget, cal)
        whole_one = buy_in_order(columns_of(table_one), hours, budget)
        tables_in_order = _tables_in_order(tables, hours, budget)
        rows.append(
            [
                f"{budget:g}",
                f"{_decided(plan):.2f} ({len(plan.judged)} lines, {plan.priced():.0f} h)",
                f"{stated:.2f} stated, {_decided(former):.2f} ({len(former.judged)} lines, {former.priced():.0f} h)",
                f"{expected_of(whole_one, tables):.2f} ({sum(hours[r] for r in whole_one):.0f} h)",
                f"{expected_of(tables_in_order, tables):.2f} ({sum(hours[r] for r in tables_in_order):.0f} h)",
            ]
        )
    lines = sum(len(t.lines) for t in tables)
    print(f"Expected decided claim lines (of {lines} plannable; {cal.gpu}, {cal.source}); GPU-hours spent in brackets:")
    headers = ["budget (GPU-hours)", "repro plan", "former greedy", "Table 1 whole", "tables in order"]
    print(tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True))
    if args.truths:
        print(truths_table(tables, args.truths, cal))
    return 0


def _decided(plan: BudgetPlan) -> float:
    return plan.expected[0].outcomes.decided


def truths_table(tables: list[PricedTable], budget: float, cal) -> str:
    """The exact plan and the former greedy at `budget`: each kind of decision under each truth."""
    rows = []
    plans = {"repro plan": plan_within(tables, budget, cal), "former greedy": former_plan(tables, budget, cal)[0]}
    for name, plan in plans.items():
        claims = len({(j.line.table, j.line.claim.name) for j in plan.judged})
        for e in plan.expected:
            kinds = [f"{e.outcomes.of(k):.2f}" for k in DECISIONS]
            rows.append([name, e.truth.name, f"{e.outcomes.decided:.2f}", *kinds, f"{e.holds:.2f} of {claims}",
                         f"{e.hours:.2f}"])  # fmt: skip
    headers = ["plan", "truth", "decided", *map(str, DECISIONS), "claims holding after Holm", "GPU-hours"]
    table = tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)
    return f"\nAt {budget:g} GPU-hours, under three truths:\n{table}"


def _tables_in_order(tables: list[PricedTable], hours: dict, budget: float) -> frozenset:
    """Whole tables in order while they fit; then the first that does not, column by column while they fit."""
    bought: frozenset = frozenset()
    for t in tables:
        whole = frozenset(t.hours)
        if sum(hours[r] for r in bought | whole) <= budget:
            bought |= whole
            continue
        rest = budget - sum(hours[r] for r in bought)
        return bought | buy_in_order(columns_of(t), hours, rest)
    return bought


if __name__ == "__main__":
    sys.exit(main())
