"""The planner's choice (repro/planning/choose.py, a 0-1 program solved by scipy's milp) is the exact optimum: on small
fabricated instances (lines over shared cells, a cell's runs needing a shared dependency, seed counts 2 and 3 and
seeds until decided as exclusive options, random powers and run prices) it finds what an exhaustive search of every
assignment finds, within the budget and under the same rule (a cell takes one mode, shared by every line counted on
it)."""

from __future__ import annotations

import itertools
import random

import pytest

from repro.planning.choose import Choice, Item, Option, choose, cost

UNTIL_DECIDED = 10  # the most seeds of an option bought until decided


def cell_runs(cell: int, seeds: int, until_decided: bool) -> frozenset:
    """A cell's runs: one per seed, its tuning (shared by the cell's every mode) and, past 3 seeds, its rounds."""
    runs = {(cell, "tune")} | {(cell, s) for s in range(seeds if not until_decided else 2)}
    return frozenset(runs | ({(cell, "rounds")} if until_decided else set()))


def fabricated(rng: random.Random, lines: int, cells: int) -> tuple[list[Item], dict]:
    hours = {}
    for cell in range(cells):
        hours[(cell, "tune")] = rng.uniform(0.0, 6.0)
        hours[(cell, "rounds")] = rng.uniform(0.5, 4.0)
        hours.update({(cell, s): rng.uniform(0.5, 5.0) for s in range(3)})
    items = []
    for key in range(lines):
        own = tuple(rng.sample(range(cells), 2))
        base = rng.uniform(0.05, 0.8)
        options = [
            Option((n, n), min(1.0, base * (1 + 0.4 * (n - 2))), tuple(cell_runs(c, n, False) for c in own))
            for n in (2, 3)
        ]
        if rng.random() < 0.5:
            runs = tuple(cell_runs(c, 2, True) for c in own)
            options.append(Option((UNTIL_DECIDED,) * 2, min(1.0, base * 1.6), runs, until_decided=True))
        items.append(Item(key, tuple(options), own))
    return items, hours


def exhaustive(items: list[Item], hours: dict, budget: float) -> Choice:
    """Every assignment of an option (or none) to each line whose cells each take one mode: the most expected
    decisions within the budget (ties: the cheaper)."""
    best = Choice()
    for combo in itertools.product(*[(None, *item.options) for item in items]):
        picked = {item.key: o for item, o in zip(items, combo) if o is not None}
        modes: dict = {}
        if any(modes.setdefault(cell, o.mode(i)) != o.mode(i) for item, o in zip(items, combo) if o is not None
               for i, cell in enumerate(item.cells)):  # fmt: skip
            continue
        value, spent = sum(o.power for o in picked.values()), cost(picked, hours)
        if spent <= budget + 1e-9 and (value > best.expected + 1e-9 or (value > best.expected - 1e-9 and
                                                                        spent < best.hours)):  # fmt: skip
            best = Choice(picked, value, spent, value)
    return best


@pytest.mark.parametrize("case", range(25))
def test_the_choice_is_the_exhaustive_optimum(case):
    rng = random.Random(case)
    items, hours = fabricated(rng, 5, 4)
    budget = rng.uniform(0.15, 0.9) * sum(hours.values())
    best, got = exhaustive(items, hours, budget), choose(items, hours, budget)
    assert got.optimal and got.hours <= budget + 1e-9
    assert got.expected == pytest.approx(best.expected, abs=1e-9)
    assert got.hours == pytest.approx(best.hours, abs=1e-6) or got.expected > best.expected - 1e-9


def test_a_shared_cell_is_paid_once_and_its_lines_share_its_seeds():
    """Two lines on one costly cell: each alone is worth less per GPU-hour than a cheap line that would leave no room
    for them; bought together they win. A third line may count on the cell only at the seeds the others chose."""
    shared = frozenset({"big"})
    items = [
        Item("a", (Option((2,), 0.6, (shared | {"a"},)),), ("cell",)),
        Item("b", (Option((2,), 0.6, (shared | {"b"},)),), ("cell",)),
        Item("c", (Option((2,), 0.3, (frozenset({"small"}),)),), ("other",)),
        Item("d", (Option((3,), 0.9, (shared | {"d"},)),), ("cell",)),  # the cell at 3 seeds: not with a and b
    ]
    hours = {"big": 9.0, "a": 0.5, "b": 0.5, "d": 0.5, "small": 1.0}
    got = choose(items, hours, 10.0)
    assert set(got.picked) == {"a", "b"} and got.hours == pytest.approx(10.0)
    assert set(exhaustive(items, hours, 10.0).picked) == {"a", "b"}


def test_a_plan_stopped_before_its_proof_says_how_far_from_the_bound():
    stopped = Choice({}, 10.0, 50.0, bound=10.5)
    assert not stopped.optimal and "0.50 expected decisions below its bound of 10.50" in stopped.how()
    assert "exact optimum" in Choice({}, 10.0, 50.0, bound=10.0).how()
