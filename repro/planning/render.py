"""`repro plan`'s printed answer: its head (what was asked, how it was chosen), the lines the ledger will judge, what
they are expected to decide and cost under three truths, the commands, and the lines it cannot plan, each with why."""

from __future__ import annotations

from typing import Any, Protocol

from tabulate import tabulate

from repro.claims.decision import DECISIONS
from repro.planning.commands import SweepCommand
from repro.planning.expect import TRUTHS, Expected, Judged
from repro.planning.lines import PricedTable
from repro.planning.packed import packing_text
from repro.sweep.budget.calibration import Calibration
from repro.sweep.budget.estimate import hours_text

# the sweep's budget cap prices the runs it has not started unpacked, and counts each packed run's own wall time
UNPACKED_CAP = "; it prices and counts each run unpacked, so it holds runs before the packed hours reach H"


class PlanLike(Protocol):
    """What this needs of repro/planning/budget_plan.py's BudgetPlan (which renders itself through it)."""

    budget: float
    within: float
    tables: list[PricedTable]
    choice: Any
    calibration: Calibration
    commands: list[SweepCommand]
    judged: list[Judged]
    expected: list[Expected]

    @property
    def runs_per_gpu(self) -> int: ...

    def priced(self) -> float: ...

    def worst_hours(self) -> float: ...


def render_plan(plan: PlanLike) -> str:
    unit = plan.calibration.hours_unit
    table = tabulate(
        _line_rows(plan),
        headers=["line", "cells", "seeds", unit, "P(decision)", "spread", f"cumulative {unit}", "cumulative expected"],
        tablefmt="github",
        disable_numparse=True,
    )
    tail = [
        "",
        "What to run (`--dry-run` first; `--max-gpu-hours H` on a command starts nothing that would take its "
        f"runs past H {unit}, their measured time included{UNPACKED_CAP if plan.runs_per_gpu > 1 else ''}):",
        *(c.text for c in plan.commands),
    ]
    skipped = [s for t in plan.tables for s in t.skipped]
    if skipped:
        tail += ["", "Not plannable:", *[f"  - {s}" for s in skipped]]
    packing = packing_text(plan.commands, plan.calibration, plan.runs_per_gpu)
    return "\n".join([_head(plan), *packing, "", table, "", *_expected_text(plan), *tail])


def _head(plan: PlanLike) -> str:
    cal, unit = plan.calibration, plan.calibration.hours_unit
    chosen = sum(1 for j in plan.judged if j.line.item.key in plan.choice.picked)
    more = len(plan.judged) - chosen
    extra = f" ({chosen} chosen, {more} more whose cells they train)" if more else ""
    lines = sum(len(t.lines) for t in plan.tables)
    within = ""
    if plan.within < plan.budget - 1e-9:
        within = (f", within {hours_text(plan.within)} {unit} (the commands' dry runs price a run two of them need "
                  "twice)")  # fmt: skip
    return (
        f"Plan for {hours_text(plan.budget)} {unit} ({cal.gpu}, {cal.provenance}): {len(plan.judged)} of {lines} "
        f"claim lines the ledger will judge from the commands below{extra}, expected decided "
        f"{plan.expected[0].outcomes.decided:.2f}, {hours_text(plan.priced())} {unit} as the commands below dry-run "
        f"({hours_text(plan.choice.hours)} trained: a run two commands need trains once), when the paper's contrasts "
        f"are the truth (below: at half of them, and at none). Chosen as {plan.choice.how()}{within}. P(decision): "
        "the chance the ledger's own test decides the line (a sign shown on either side, the paper's value ruled "
        "out, equivalent or not) at its seeds, in the design the ledger chooses (paired or Welch) with the sd "
        "estimated from those seeds, when the truth is the paper's contrast; spread: whose seed-to-seed sd it "
        "assumes (ours, the paper's, or a prior: a cell printed without a std takes the largest its column prints), "
        f"{_spread_text(plan)}; {unit}: what the line adds to the lines above it (shared runs paid once)."
    )


def _spread_text(plan: PlanLike) -> str:
    """Where our runs were looked for, and how many lines took their spread."""
    roots = list(dict.fromkeys(str(t.finished.root) for t in plan.tables if t.finished and t.finished.root))
    if not roots:
        return "the paper's everywhere"
    lines = [line for t in plan.tables for line in t.lines]
    ours = [line for line in lines if line.spread_text.startswith("ours")]
    found = sum(len(t.finished.values) for t in plan.tables if t.finished)
    if not found:
        return f"the paper's (no finished run of these tables' cells in {', '.join(roots)})"
    return (
        f"ours for the {len(ours)} of {len(lines)} lines whose cells have two or more finished runs each in "
        f"{', '.join(roots)} ({found} finished runs found), else the paper's"
    )


def _line_rows(plan: PlanLike) -> list[list[str]]:
    hours = {k: v for t in plan.tables for k, v in t.hours.items()}
    rows, covered, total, expected = [], set(), 0.0, 0.0
    for found in plan.judged:
        line = found.line
        option = plan.choice.picked.get(line.item.key)
        runs = option.runs if option else frozenset()
        added = sum(hours[r] for r in runs - covered)
        covered |= runs
        total += added
        decided = found.outcomes(TRUTHS[0]).decided
        expected += decided
        cells = ", ".join(f"{row} [{column}]" for row, column in line.cells)
        rows.append([line.name, cells, found.seeds_text(), hours_text(added), f"{decided:.2f}", line.spread_text,
                     hours_text(total), f"{expected:.2f}"])  # fmt: skip
    return rows


def _expected_text(plan: PlanLike) -> list[str]:
    unit = plan.calibration.hours_unit
    claims = len({(j.line.table, j.line.claim.name) for j in plan.judged})
    rows = [
        [e.truth.name, f"{e.outcomes.decided:.2f}", *(f"{e.outcomes.of(k):.2f}" for k in DECISIONS),
         f"{e.holds:.2f} of {claims}", hours_text(e.hours)]
        for e in plan.expected
    ]  # fmt: skip
    table = tabulate(
        rows,
        headers=["truth", "decided", *(str(k) for k in DECISIONS), "claims holding after Holm", f"expected {unit}"],
        tablefmt="github",
        disable_numparse=True,
    )
    out = [
        "What the ledger is expected to decide of these runs, each line's contrast the paper's, half of it or none "
        "(each kind of decision; the claims holding after its Holm correction, simulated; the GPU-hours, the rounds "
        "of seeds until decided at their chance):",
        table,
    ]
    return out + _rounds_text(plan, unit)


def _rounds_text(plan: PlanLike, unit: str) -> list[str]:
    if not any(j.seeds is None for j in plan.judged):
        return []
    worst = plan.worst_hours()
    said = [f"At worst (every line bought until decided runs to its most seeds): {hours_text(worst)} {unit}."]
    over = [e for e in plan.expected if e.hours > plan.budget + 1e-9]
    said += [
        f"With {e.truth.name} contrasts the rounds are expected to cost {hours_text(e.hours)} {unit}, over the budget "
        f"of {hours_text(plan.budget)}: give their command --max-gpu-hours {plan.budget:g} to stop there."
        for e in over
    ]
    return [""] + said + [""]
