"""Which claim lines to test, and how, for the most expected decisions within a budget: the exact optimum.

The problem: each line has options (n seeds per cell, or seeds added until decided), of which at most one is
chosen, each with its chance of deciding the line (repro/claims/decision.py); a line needs its cells (the cells it
contrasts, and those a stage trains with them), and a cell in a mode (n seeds, or until decided) needs its runs
(tuning, folds, teachers, ...); a run is paid once whoever needs it (every gain over the baseline needs the
baseline's runs). The ledger judges a line on all the finished runs of its cells, so its chance holds where each of
its cells is trained in the line's mode: a cell takes one mode, and every line counted on it shares that mode.

As a 0-1 program (scipy.optimize.milp, HiGHS' branch and bound): x[l, o] = 1 where line l takes option o, z[c, m] =
1 where cell c is trained in mode m, r[g] = 1 where the runs of group g are paid (runs that exactly the same cell
modes need are one group, their hours summed):

    maximise  sum P[l, o] x[l, o]  -  EPSILON / budget * sum hours[g] r[g]      (ties: the cheaper plan)
    so that   sum_o x[l, o] <= 1,   sum_m z[c, m] <= 1,   x[l, o] <= z[c, m(o)] for each cell c of line l,
              sum_(m: c in mode m needs g) z[c, m] <= r[g] for each cell c,   sum hours[g] r[g] <= budget.

r may be fractional (it is 1 wherever a chosen mode needs it, and costs where it is not needed). Where the solver
stops at TIME_LIMIT before proving its plan optimal, the choice says so with its gap to the bound.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Hashable, Iterator, Mapping

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

RunKey = Hashable
TIME_LIMIT = 20.0  # seconds the solver may search before it answers with its best plan and the bound
EPSILON = 1e-7  # the weight of GPU-hours against expected decisions: only ties are broken by it


@dataclass(frozen=True)
class Option:
    """A line with `counts` seeds in each of its cells (Item.cells' order), or seeds until decided: the probability
    it decides, and the runs each cell needs so (`cell_runs`, the same order)."""

    counts: tuple[int, ...]
    power: float
    cell_runs: tuple[frozenset[RunKey], ...]
    until_decided: bool = False  # seeds added in rounds while the line is undecided, up to `seeds` (its runs at
    # their expected GPU-hours)

    @property
    def runs(self) -> frozenset[RunKey]:
        """Every run it needs."""
        return frozenset().union(*self.cell_runs)

    @property
    def seeds(self) -> int:
        """The most seeds a cell of it takes."""
        return max(self.counts)

    def mode(self, cell: int) -> tuple[bool, int]:
        """How it trains its `cell`-th cell: at a seed count, or until decided (up to `seeds`)."""
        return (self.until_decided, self.counts[cell])


@dataclass(frozen=True)
class Item:
    """One claim line: its options and its cells (those it contrasts, then those a stage trains with them)."""

    key: Hashable
    options: tuple[Option, ...]
    cells: tuple[Hashable, ...]


@dataclass
class Choice:
    """A line -> its chosen option (absent: not tested), with the expected decisions, the GPU-hours and how far the
    solver proved it from the best (`bound`: no plan within the budget expects more)."""

    picked: dict[Hashable, Option] = field(default_factory=dict)
    expected: float = 0.0
    hours: float = 0.0
    bound: float = 0.0

    @property
    def optimal(self) -> bool:
        return self.bound - self.expected <= 1e-6

    def how(self) -> str:
        if self.optimal:
            return "the exact optimum of a 0-1 program (scipy's milp: every line's options, shared runs paid once)"
        return (
            f"the best a 0-1 program found within {TIME_LIMIT:g} s (scipy's milp), {self.bound - self.expected:.2f} "
            f"expected decisions below its bound of {self.bound:.2f}"
        )


def cost(picked: Mapping[Hashable, Option], hours: Mapping[RunKey, float]) -> float:
    """GPU-hours of the union of the runs the picked options need (a shared run counted once)."""
    return sum(hours[r] for r in frozenset().union(*(o.runs for o in picked.values())))


def choose(items: list[Item], hours: Mapping[RunKey, float], budget: float) -> Choice:
    """The options that decide the most lines in expectation within `budget` GPU-hours (ties: the cheapest)."""
    pairs = [(item, option) for item in items for option in item.options]
    if not pairs:
        return Choice()
    needs = _mode_runs(pairs)
    modes = list(needs)
    groups = _run_groups(needs, hours)
    x, z, r = len(pairs), len(modes), len(groups)
    cost_row = np.concatenate([np.zeros(x + z), [h for h, _ in groups]])
    objective = -np.concatenate([[o.power for _, o in pairs], np.zeros(z + r)]) + EPSILON / budget * cost_row
    rows, upper = _constraints(pairs, modes, groups)
    constraints = [LinearConstraint(rows, -np.inf, upper), LinearConstraint(cost_row.reshape(1, -1), 0.0, budget)]
    integrality = np.concatenate([np.ones(x + z), np.zeros(r)])
    with _quiet_stdout():  # HiGHS may print a debugging line of its own to the process's stdout
        found = milp(objective, constraints=constraints, integrality=integrality, bounds=Bounds(0.0, 1.0),
                     options={"time_limit": TIME_LIMIT, "mip_rel_gap": 0.0})  # fmt: skip
    if found.x is None:
        return Choice()
    picked = {item.key: option for (item, option), v in zip(pairs, found.x[:x]) if v > 0.5}
    expected = sum(o.power for o in picked.values())
    bound = expected if found.success else max(expected, -float(getattr(found, "mip_dual_bound", -expected)))
    return Choice(picked, expected, cost(picked, hours), bound)


Mode = tuple[Hashable, tuple[bool, int]]  # a cell, and how it is trained


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """File descriptor 1 sent to the null device while the solver runs (what it prints from C++ bypasses Python)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _mode_runs(pairs: list[tuple[Item, Option]]) -> dict[Mode, frozenset[RunKey]]:
    """Every cell mode an option counts on, with the runs it needs."""
    needs: dict[Mode, frozenset[RunKey]] = {}
    for item, option in pairs:
        for i, cell in enumerate(item.cells):
            key = (cell, option.mode(i))
            needs[key] = needs.get(key, frozenset()) | option.cell_runs[i]
    return needs


def _run_groups(needs: dict[Mode, frozenset[RunKey]], hours: Mapping[RunKey, float]) -> list[tuple[float, list]]:
    """The runs grouped by which cell modes need them: (their hours, those modes)."""
    users: dict[RunKey, list[Mode]] = {}
    for mode, runs in needs.items():
        for run in runs:
            users.setdefault(run, []).append(mode)
    groups: dict[tuple, float] = {}
    for run, modes in users.items():
        groups[tuple(modes)] = groups.get(tuple(modes), 0.0) + hours[run]
    return [(h, list(modes)) for modes, h in groups.items()]


def _constraints(
    pairs: list[tuple[Item, Option]], modes: list[Mode], groups: list[tuple[float, list]]
) -> tuple[sparse.csr_matrix, np.ndarray]:
    """The rows `A v <= upper`: one option a line, one mode a cell, each option's cells in its modes, the runs of
    each cell's mode paid."""
    x, z = len(pairs), len(modes)
    mode_at = {key: x + j for j, key in enumerate(modes)}
    rows: list[list[tuple[int, float]]] = []
    upper: list[float] = []
    by_item: dict[Hashable, list[int]] = {}
    for i, (item, _) in enumerate(pairs):
        by_item.setdefault(item.key, []).append(i)
    by_cell: dict[Hashable, list[int]] = {}
    for cell, mode in modes:
        by_cell.setdefault(cell, []).append(mode_at[(cell, mode)])
    for columns in [*by_item.values(), *by_cell.values()]:
        if len(columns) > 1:
            rows.append([(c, 1.0) for c in columns])
            upper.append(1.0)
    for i, (item, option) in enumerate(pairs):
        for term, cell in enumerate(item.cells):
            rows.append([(i, 1.0), (mode_at[(cell, option.mode(term))], -1.0)])
            upper.append(0.0)
    for g, (_, needing) in enumerate(groups):
        per_cell: dict[Hashable, list[int]] = {}
        for cell, mode in needing:  # a cell takes one mode at most: its modes needing the group are one row
            per_cell.setdefault(cell, []).append(mode_at[(cell, mode)])
        for columns in per_cell.values():
            rows.append([*((c, 1.0) for c in columns), (x + z + g, -1.0)])
            upper.append(0.0)
    data = [(k, col, val) for k, row in enumerate(rows) for col, val in row]
    shape = (len(rows), x + z + len(groups))
    matrix = sparse.csr_matrix(([v for _, _, v in data], ([k for k, _, _ in data], [c for _, c, _ in data])), shape)
    return matrix, np.array(upper)
