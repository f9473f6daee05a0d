"""The planner as it was before it asked the ledger's decision model and chose exactly, kept here (and only here) to
compare plans with: its P(decision) the power of a Welch test whose degrees of freedom came from the paper's sds as
if they were known (the paper's lines' cells at coefficients 1/k where k of its columns stand for ours), two one-sided
tests floored at 0, lines without a printed std left out; its choice greedy (the move with the most of those
expected decisions per added GPU-hour, from nothing and from each affordable column move, the best of those and of
the best single line), chosen again within less while its commands priced more than the budget.

`former_choice(tables, budget, cal)` gives that choice as the current planner's options (the same lines at the same
seeds), so the current plan's expectations (repro/planning/expect.py) read what it would have decided; with the
power it stated beside it (benchmarks/plan_budgets.py prints both)."""

from __future__ import annotations

import math
from typing import Hashable

from scipy import special

from repro.claims.stats import ALPHA, t_quantile
from repro.planning.budget_plan import RETRIES, BudgetPlan
from repro.planning.choose import Choice, Option, cost
from repro.planning.lines import PRIOR, PlanLine, PricedTable
from repro.sweep.budget.calibration import Calibration


def former_power(line: PlanLine, seeds: int) -> float:
    """What the former planner stated as the line's P(decision) at `seeds` per cell."""
    paper = line.claim.paper_difference(line.column)
    cells = [(c / len(paper.lines), cell) for found in paper.lines for c, cell in found.cells]
    sds = [max(float(cell.std or 0.0), cell.std_floor, line.model.floor) for _, cell in cells]
    parts = [(c * sd) ** 2 / seeds for (c, _), sd in zip(cells, sds)]
    se, dof = math.sqrt(sum(parts)), sum(parts) ** 2 / sum(p**2 / (seeds - 1) for p in parts)
    value, margin = paper.value or 0.0, line.claim.margin
    if margin is None:
        crit = t_quantile(1 - ALPHA / 2, dof)
        return _above(crit, dof, abs(value) / se) + _below(-crit, dof, abs(value) / se)
    crit = t_quantile(1 - ALPHA, dof)
    return max(0.0, _above(crit, dof, (value + margin) / se) + _below(-crit, dof, (value - margin) / se) - 1.0)


def _above(x: float, dof: float, shift: float) -> float:
    p = float(special.nctdtr(dof, -shift, -x))
    return p if not math.isnan(p) else float(shift > x)


def _below(x: float, dof: float, shift: float) -> float:
    p = float(special.nctdtr(dof, shift, x))
    return p if not math.isnan(p) else float(shift < x)


def former_lines(tables: list[PricedTable]) -> list[PlanLine]:
    """The lines it planned: not those resting on a prior, nor a gain whose paper contrast is 0 (nothing to power)."""
    return [
        line
        for t in tables
        for line in t.lines
        if line.spread_text != PRIOR and (line.model.paper or line.model.margin is not None)
    ]


def former_plan(tables: list[PricedTable], budget: float, cal: Calibration) -> tuple[BudgetPlan, float]:
    """Its plan (as the current planner's options) and the expected decisions it stated."""
    lines = former_lines(tables)
    options = {line.item.key: [(o, former_power(line, o.seeds)) for o in line.item.options] for line in lines}
    groups = {line.item.key: (line.table, line.column) for line in lines}
    hours = {k: v for t in tables for k, v in t.hours.items()}
    within = budget
    for _ in range(RETRIES):
        picked = _greedy(options, groups, hours, within)
        plan = BudgetPlan(budget, tables, Choice(picked, 0.0, cost(picked, hours), 0.0), cal, within=within)
        over = plan.priced() - budget
        if over <= 1e-9:
            break
        within -= over
    stated = sum(dict(options[key])[option] for key, option in plan.choice.picked.items())
    plan.choice.expected = plan.choice.bound = stated  # what it said; plan.expected: what the ledger would decide
    return plan, stated


def _greedy(options: dict, groups: dict, hours: dict, budget: float) -> dict[Hashable, Option]:
    """The best of: greedy from nothing, greedy from each affordable column move, the best single line."""
    starts = [{}, *(m for m in _moves(options, groups, {}) if len(m) > 1 and cost(m, hours) <= budget)]
    found = [_greedy_from(dict(start), options, groups, hours, budget) for start in starts]
    found += [{key: o} for key, pairs in options.items() for o, _ in pairs if cost({key: o}, hours) <= budget]
    power = {(key, o): p for key, pairs in options.items() for o, p in pairs}
    return max(found, key=lambda c: (sum(power[(k, o)] for k, o in c.items()), -cost(c, hours)))


def _greedy_from(picked: dict, options: dict, groups: dict, hours: dict, budget: float) -> dict:
    power = {(key, o): p for key, pairs in options.items() for o, p in pairs}
    covered = set().union(*(o.runs for o in picked.values()))
    spent = sum(hours[r] for r in covered)
    while True:
        best, best_ratio = None, -1.0
        for move in _moves(options, groups, picked):
            gain = sum(power[(k, o)] - (power[(k, picked[k])] if k in picked else 0.0) for k, o in move.items())
            added = sum(hours[r] for r in frozenset().union(*(o.runs for o in move.values())) - covered)
            if gain <= 0 or spent + added > budget + 1e-9:
                continue
            ratio = math.inf if added <= 0 else gain / added
            if ratio > best_ratio:
                best, best_ratio = (move, added), ratio
        if best is None:
            return picked
        picked.update(best[0])
        for option in best[0].values():
            covered |= option.runs
        spent += best[1]


def _moves(options: dict, groups: dict, picked: dict):
    """One line raised to any more of its seeds; every line of a column raised to the same seed count."""
    for key, pairs in options.items():
        now = picked[key].seeds if key in picked else 0
        yield from ({key: o} for o, _ in pairs if o.seeds > now)
    by_group: dict = {}
    for key, group in groups.items():
        by_group.setdefault(group, []).append(key)
    for members in by_group.values():
        for seeds in sorted({o.seeds for key in members for o, _ in options[key]}) if len(members) > 1 else ():
            move = {key: o for key in members for o, _ in options[key]
                    if o.seeds == seeds and o.seeds > (picked[key].seeds if key in picked else 0)}  # fmt: skip
            if len(move) > 1:
                yield move
