"""Which claim lines to test, and with how many seeds, for the most expected decisions within a budget.

The problem, abstractly: each line has a few seed counts to choose from, each with its probability of deciding the
line; a line at n seeds needs the runs of its cells at n seeds, and lines share cells (every gain over the baseline
needs the baseline's runs), so a run is paid once whoever needs it. The value of a choice is the sum of its lines'
probabilities (the expected number of decided lines); its cost, the GPU-hours of the union of the runs it needs.

Two ways to choose: `exhaustive` tries every assignment (exact; for small instances only) and `greedy` repeatedly
takes the move with the most expected decisions per GPU-hour it adds given what is already chosen (a move raises one
line, or every line of a group, to more seeds), and does the same from each affordable group move (lines that pay
only together), keeping the best of those and of the best single affordable line (with costs that add up, that is
within half of the optimum; the tests check it against `exhaustive` on small fabricated instances).
`choose` is exact where the assignments are few, greedy otherwise."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Hashable, Mapping

RunKey = Hashable
EXACT_LIMIT = 20_000  # assignments `choose` tries one by one; above it, greedy


@dataclass(frozen=True)
class Option:
    """A line at `seeds` seeds per cell: the probability it decides, and every run it needs (tuning, folds, teachers
    and the other cells' runs included)."""

    seeds: int
    power: float
    runs: frozenset[RunKey]
    until_decided: bool = False  # seeds added in rounds while the line is undecided, up to `seeds` (its runs at
    # their expected GPU-hours)


@dataclass(frozen=True)
class Item:
    """One claim line with its options (more seeds: more runs, a higher power); `group` puts lines that share their
    cells together (a table's column), so greedy can buy a group at once."""

    key: Hashable
    options: tuple[Option, ...]
    group: Hashable = None


@dataclass
class Choice:
    """A line -> its chosen option (absent: not tested), with the expected decisions and the GPU-hours."""

    picked: dict[Hashable, Option] = field(default_factory=dict)
    expected: float = 0.0
    hours: float = 0.0
    how: str = ""

    def runs(self) -> frozenset[RunKey]:
        return frozenset().union(*(o.runs for o in self.picked.values()))


def cost(picked: Mapping[Hashable, Option], hours: Mapping[RunKey, float]) -> float:
    """GPU-hours of the union of the runs the picked options need (a shared run counted once)."""
    return sum(hours[r] for r in frozenset().union(*(o.runs for o in picked.values())))


def _choice(picked: dict[Hashable, Option], hours: Mapping[RunKey, float], how: str) -> Choice:
    return Choice(dict(picked), sum(o.power for o in picked.values()), cost(picked, hours), how)


def exhaustive(items: list[Item], hours: Mapping[RunKey, float], budget: float) -> Choice:
    """Every assignment of an option (or none) to each line: the one with the most expected decisions within the
    budget (ties: the cheaper)."""
    best = Choice(how="exhaustive")
    for combo in itertools.product(*[(None, *item.options) for item in items]):
        picked = {item.key: o for item, o in zip(items, combo) if o is not None}
        value = sum(o.power for o in picked.values())
        if value < best.expected - 1e-12:
            continue
        spent = cost(picked, hours)
        better = value > best.expected + 1e-12 or spent < best.hours  # (not below it: ties go to the cheaper)
        if spent <= budget + 1e-9 and better:
            best = Choice(picked, value, spent, "exhaustive")
    return best


def assignments(items: list[Item]) -> int:
    return math.prod(1 + len(item.options) for item in items)


def greedy(items: list[Item], hours: Mapping[RunKey, float], budget: float) -> Choice:
    """Take the move with the most expected decisions per added GPU-hour until none fits, from nothing and from each
    affordable group move (lines that pay only together: their shared cell is dear); the best of those, or of the
    best single affordable line."""
    groups: dict[Hashable, list[Item]] = {}
    for item in items:
        if item.group is not None:
            groups.setdefault(item.group, []).append(item)
    starts = [{}, *(m for m in _moves(items, groups, {}) if len(m) > 1 and cost(m, hours) <= budget)]
    found = [_greedy_from(dict(start), items, groups, hours, budget) for start in starts]
    found += [
        _choice({item.key: o}, hours, "greedy")
        for item in items
        for o in item.options
        if cost({item.key: o}, hours) <= budget
    ]
    return max(found, key=lambda c: (c.expected, -c.hours))


def _greedy_from(
    picked: dict[Hashable, Option],
    items: list[Item],
    groups: Mapping[Hashable, list[Item]],
    hours: Mapping[RunKey, float],
    budget: float,
) -> Choice:
    covered: set[RunKey] = set().union(*(o.runs for o in picked.values()))
    spent = sum(hours[r] for r in covered)
    while True:
        best, best_ratio = None, -1.0
        for move in _moves(items, groups, picked):
            gain = sum(o.power - (picked[k].power if k in picked else 0.0) for k, o in move.items())
            if gain <= 0:
                continue
            added = sum(hours[r] for r in frozenset().union(*(o.runs for o in move.values())) - covered)
            if spent + added > budget + 1e-9:
                continue
            ratio = math.inf if added <= 0 else gain / added
            if ratio > best_ratio:
                best, best_ratio = (move, added), ratio
        if best is None:
            return _choice(picked, hours, "greedy")
        move, added = best
        picked.update(move)
        for option in move.values():
            covered |= option.runs
        spent += added


def _moves(items: list[Item], groups: Mapping[Hashable, list[Item]], picked: Mapping[Hashable, Option]):
    """One line raised to any more of its seeds; every line of a group raised to the same seed count."""
    for item in items:
        now = picked[item.key].seeds if item.key in picked else 0
        for option in item.options:
            if option.seeds > now:
                yield {item.key: option}
    for members in groups.values():
        if len(members) < 2:
            continue
        for seeds in sorted({o.seeds for item in members for o in item.options}):
            move = {}
            for item in members:
                now = picked[item.key].seeds if item.key in picked else 0
                option = next((o for o in item.options if o.seeds == seeds), None)
                if option is not None and seeds > now:
                    move[item.key] = option
            if len(move) > 1:
                yield move


def choose(items: list[Item], hours: Mapping[RunKey, float], budget: float) -> Choice:
    """Exact where there are at most EXACT_LIMIT assignments, greedy otherwise."""
    if assignments(items) <= EXACT_LIMIT:
        return exhaustive(items, hours, budget)
    return greedy(items, hours, budget)
