"""`repro plan`'s answer: the chosen lines with their seeds, GPU-hours and probabilities, and the `repro sweep`
commands that train exactly their cells (a sweep's dry run of them prices the same runs)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from tabulate import tabulate

from repro.checkout import CHECKOUT_ROOT
from repro.claims.load import load_claims
from repro.errors import UserError
from repro.planning.choose import Choice, choose
from repro.planning.lines import PlanLine, PricedTable, price_table
from repro.sweep.budget.calibration import Calibration
from repro.sweep.budget.costs import hours_text


@dataclass
class BudgetPlan:
    budget: float
    tables: list[PricedTable]
    choice: Choice
    calibration: Calibration

    @property
    def lines(self) -> list[PlanLine]:
        return [line for t in self.tables for line in t.lines]

    def chosen(self) -> list[PlanLine]:
        """The chosen lines, most likely decided per GPU-hour first (the order the table's cumulative column adds)."""
        picked = [line for line in self.lines if line.item.key in self.choice.picked]
        return sorted(picked, key=lambda line: -self.choice.picked[line.item.key].power)

    def commands(self) -> list[str]:
        """One `repro sweep` per table, seed count and set of rows: `--rows`/`--columns`/`--seeds` select exactly
        the chosen cells at the most seeds a chosen line needs of them."""
        out = []
        for table in self.tables:
            seeds_of: dict[tuple[str, str], int] = {}
            for line in table.lines:
                option = self.choice.picked.get(line.item.key)
                for cell in line.cells if option else ():
                    seeds_of[cell] = max(seeds_of.get(cell, 0), option.seeds)
            by_column: dict[tuple[int, str], set[str]] = {}
            for (row, column), n in seeds_of.items():
                by_column.setdefault((n, column), set()).add(row)
            groups: dict[tuple[int, frozenset[str]], list[str]] = {}
            for (n, column), rows in by_column.items():
                groups.setdefault((n, frozenset(rows)), []).append(column)
            for (n, rows), columns in groups.items():
                spec = table.spec
                path = table.path.relative_to(CHECKOUT_ROOT) if table.path.is_relative_to(CHECKOUT_ROOT) else table.path
                parts = ["repro", "sweep", str(path), "--rows", *[r for r in spec.rows if r in rows]]
                parts += ["--columns", *[c for c in spec.columns if c in columns]]
                parts += ["--seeds", *map(str, spec.seeds[:n])]
                out.append(shlex.join(parts))
        return out

    def render(self) -> str:
        rows, total, expected = [], 0.0, 0.0
        covered: set = set()
        hours = {k: v for t in self.tables for k, v in t.hours.items()}
        for line in self.chosen():
            option = self.choice.picked[line.item.key]
            added = sum(hours[r] for r in option.runs - covered)
            covered |= option.runs
            total += added
            expected += option.power
            cells = ", ".join(f"{row} [{column}]" for row, column in line.cells)
            rows.append(
                [
                    line.name,
                    cells,
                    option.seeds,
                    hours_text(added),
                    f"{option.power:.2f}",
                    hours_text(total),
                    f"{expected:.2f}",
                ]
            )
        head = (
            f"Plan for {hours_text(self.budget)} GPU-hours ({self.calibration.gpu}, {self.calibration.source}), "
            f"chosen {self.choice.how}: {len(rows)} of {len(self.lines)} claim lines, expected decided "
            f"{self.choice.expected:.2f}, {hours_text(self.choice.hours)} GPU-hours. P(decision): the power of the "
            "line's test when the truth is the paper's contrast, from the paper's spread; GPU-hours: what the line "
            "adds to the lines above it (shared cells paid once)."
        )
        table = tabulate(
            rows,
            headers=[
                "line",
                "cells",
                "seeds",
                "GPU-hours",
                "P(decision)",
                "cumulative GPU-hours",
                "cumulative expected",
            ],
            tablefmt="github",
            disable_numparse=True,
        )
        skipped = [s for t in self.tables for s in t.skipped]
        tail = ["", "What to run (`--dry-run` first prices the same):", *self.commands()]
        if skipped:
            tail += ["", "Not plannable:", *[f"  - {s}" for s in skipped]]
        return "\n".join([head, "", table, *tail])


def plan_budget(budget: float, cal: Calibration, tables: list[int] | None = None, claims_file=None) -> BudgetPlan:
    """Price every claim line of `tables` (default: every table with a claim) and choose within `budget`."""
    if not budget > 0:
        raise UserError(f"--budget {budget:g}: a budget is a positive number of GPU-hours, e.g. --budget 200.")
    claims = load_claims(claims_file)
    known = sorted({c.table for c in claims})
    wanted = known if tables is None else tables
    unknown = [t for t in wanted if t not in known]
    if unknown:
        raise UserError(
            f"--tables {' '.join(map(str, unknown))}: no claim of {claims_file or 'paper_tables/claims.csv'} is about "
            f"that table; the tables with claims are {' '.join(map(str, known))}."
        )
    priced = [price_table(t, [c for c in claims if c.table == t], cal) for t in wanted]
    items = [line.item for p in priced for line in p.lines]
    if not items:
        why = "; ".join(s for p in priced for s in p.skipped)
        raise UserError(f"No claim line of Table(s) {' '.join(map(str, wanted))} can be planned: {why}.")
    hours = {k: v for p in priced for k, v in p.hours.items()}
    cheapest = min(sum(hours[r] for r in o.runs) for item in items for o in item.options)
    if budget < cheapest:
        raise UserError(
            f"--budget {budget:g} GPU-hours buys no claim line: the cheapest line of Table(s) "
            f"{' '.join(map(str, wanted))} costs {hours_text(cheapest)} GPU-hours at 2 seeds "
            f"({cal.gpu}). Raise the budget to at least that, or plan other tables with --tables."
        )
    return BudgetPlan(budget, priced, choose(items, hours, budget), cal)
