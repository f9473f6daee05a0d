"""Does `repro plan` buy more decided claims than the plans a user would make by hand? The expected number of decided
claim lines (each line's power at the paper's contrast, from the paper's spread, summed) at a few GPU-hour budgets,
for the planner's choice (its GPU-hours: what its commands' dry runs price) and two hand-made plans, all at the sweep
files' seeds:

- **Table 1 whole**: Table 1's columns in the file's order, each whole (every row: `--columns C`), while they fit;
- **tables in order**: the paper's tables in order, each whole while it fits, then the next table's columns in order
  while they fit (the money runs out inside it).

A hand plan's lines are those whose every run it bought. Every table is priced once (one dry-run plan each, seconds
of CPU), then every budget is chosen on those prices.

    .venv/bin/python -m benchmarks.plan_budgets                       # 50, 100, 300, 1000 H100-hours
    .venv/bin/python -m benchmarks.plan_budgets --budgets 200 --gpu A100
"""

from __future__ import annotations

import argparse
import sys
from typing import Iterable

from tabulate import tabulate

from repro.planning.budget_plan import plan_within, price_tables
from repro.planning.commands import priced
from repro.planning.lines import PricedTable
from repro.sweep.budget.calibration import load_calibration

BUDGETS = (50.0, 100.0, 300.0, 1000.0)


def expected_of(bought: frozenset, tables: list[PricedTable]) -> float:
    """Expected decided lines of a hand plan: each line whose runs at the file's seeds it bought, at its power."""
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
    parser.add_argument("--gpu", help="a `repro bench` calibration's GPU (default: as `repro sweep`)")
    args = parser.parse_args(argv)
    cal = load_calibration(args.gpu)
    tables = price_tables(cal)
    hours = {k: v for t in tables for k, v in t.hours.items()}
    items = [line.item for t in tables for line in t.lines]
    table_one = next(t for t in tables if t.table == 1)
    rows = []
    for budget in args.budgets:
        plan = plan_within(tables, budget, cal)
        planned = plan.choice
        whole_one = buy_in_order(columns_of(table_one), hours, budget)
        tables_in_order = _tables_in_order(tables, hours, budget)
        rows.append(
            [
                f"{budget:g}",
                f"{planned.expected:.2f} ({len(planned.picked)} lines, {priced(plan.commands()):.0f} h, {planned.how})",
                f"{expected_of(whole_one, tables):.2f} ({sum(hours[r] for r in whole_one):.0f} h)",
                f"{expected_of(tables_in_order, tables):.2f} ({sum(hours[r] for r in tables_in_order):.0f} h)",
            ]
        )
    lines = len(items)
    print(f"Expected decided claim lines (of {lines} plannable; {cal.gpu}, {cal.source}); GPU-hours spent in brackets:")
    print(
        tabulate(
            rows,
            headers=["budget (GPU-hours)", "repro plan", "Table 1 whole", "tables in order"],
            tablefmt="github",
            disable_numparse=True,
        )
    )
    return 0


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
