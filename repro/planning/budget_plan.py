"""`repro plan`'s answer: the lines chosen exactly for the most expected decisions within the budget
(repro/planning/choose.py), the `repro sweep` commands that train their cells, priced as those commands' dry runs
price them (packed K runs per GPU where the plan was asked to: repro/planning/packed.py), and what the ledger is
expected to decide of the runs they train under three truths (repro/planning/expect.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from repro.claims.load import load_claims
from repro.errors import UserError
from repro.planning.choose import Choice, choose
from repro.planning.commands import SweepCommand, priced, table_commands
from repro.planning.expect import TRUTHS, Expected, Judged, expectations, judged_lines, rounds_delta
from repro.planning.holm_draws import expected_holds
from repro.planning.lines import SWEEPS, Cell, PlanLine, PricedTable, price_table, sweep_file
from repro.planning.packed import check_commands_fit
from repro.planning.render import render_plan
from repro.planning.until_decided import START
from repro.sweep.budget.calibration import Calibration
from repro.sweep.budget.estimate import hours_text
from repro.sweep.budget.packing import check_runs_per_gpu

RETRIES = 5  # choices within a budget lowered by what the commands price above it


def check_budget(budget: float, unit: str, typed: str | None = None) -> float:
    """A budget is a positive, finite number of hours: anything else is refused (one paragraph), quoting the budget
    as the user typed it where known (1e400 parses as inf, and '--budget inf' would not be what they wrote)."""
    if not (isinstance(budget, (int, float)) and math.isfinite(budget) and budget > 0):
        raise UserError(
            f"--budget {typed or format(budget, 'g')}: a budget is a positive, finite number of {unit}, e.g. "
            "--budget 200 (not 0, a negative number, nan or inf)."
        )
    return float(budget)


@dataclass
class BudgetPlan:
    budget: float
    tables: list[PricedTable]
    choice: Choice
    calibration: Calibration
    gpu_model: str | None = None  # the calibration's name where `--gpu` named one: the commands name it too
    within: float = math.inf  # the GPU-hours the choice was made within (less than the budget where the commands
    # priced a run twice)

    @property
    def runs_per_gpu(self) -> int:
        """The runs packed per GPU its tables were priced at (every table at the same)."""
        return self.tables[0].runs_per_gpu

    @property
    def lines(self) -> list[PlanLine]:
        return [line for t in self.tables for line in t.lines]

    @cached_property
    def commands(self) -> list[SweepCommand]:
        """The `repro sweep` commands that train the chosen cells, each at the most seeds a chosen line needs of it
        (repro/planning/commands.py: the cut whose dry runs price least)."""
        out = []
        for table in self.tables:
            seeds_of: dict[Cell, int] = {}
            rounds: dict[Cell, None] = {}  # the cells of lines bought until decided: one command with the flag
            for line in table.lines:
                option = self.choice.picked.get(line.item.key)
                for cell in line.cells if option else ():
                    if option.until_decided:
                        rounds[cell] = None
                        continue
                    seeds_of[cell] = max(seeds_of.get(cell, 0), option.counts[line.cells.index(cell)])
            out += table_commands(table, seeds_of, self.gpu_model)  # a cell in both: its fixed seeds are counted on
            if rounds:
                rows, columns = tuple(dict.fromkeys(r for r, _ in rounds)), tuple(dict.fromkeys(c for _, c in rounds))
                out.append(SweepCommand(table, rows, columns, START, self.gpu_model, until_decided=True))
        return out

    def priced(self) -> float:
        """What its commands' dry runs price together."""
        return priced(self.commands)

    @cached_property
    def judged(self) -> list[Judged]:
        """The lines the ledger will judge from its commands' runs, the most likely decided first."""
        found = judged_lines(self.tables, self.commands)
        return sorted(found, key=lambda j: -j.outcomes(TRUTHS[0]).decided)

    @cached_property
    def expected(self) -> list[Expected]:
        """What it is expected to decide and cost under each truth (repro/planning/expect.py)."""
        return expectations(self.tables, self.commands, self.judged, expected_holds)

    def worst_hours(self) -> float:
        """GPU-hours where every line bought until decided runs to its most seeds."""
        return self.priced() + rounds_delta(self.tables, self.commands, None)

    def render(self) -> str:
        return render_plan(self)


def plan_budget(
    budget: float,
    cal: Calibration,
    tables: list[int] | None = None,
    claims_file=None,
    sweeps_dir: Path = SWEEPS,
    gpu_model: str | None = None,
    runs_root: Path | None = None,
    until_decided: bool = False,
    runs_per_gpu: int = 1,
) -> BudgetPlan:
    """Price every claim line of `tables` (default: every table with a claim and a sweep file in `sweeps_dir`) and
    choose within `budget` (hours of `cal`'s device; `gpu_model`: its name where the user named it; `runs_root`: the
    output root whose finished runs give the lines they cover our spread; `until_decided`: offer each line seeds
    until decided too; `runs_per_gpu`: runs packed per GPU, priced and memory-checked as the sweep does)."""
    check_budget(budget, cal.hours_unit)
    runs_per_gpu = check_runs_per_gpu(runs_per_gpu, None)
    found = price_tables(cal, tables, claims_file, sweeps_dir, runs_root, until_decided, runs_per_gpu)
    plan = plan_within(found, budget, cal, gpu_model)
    check_commands_fit(plan.commands, cal, runs_per_gpu)  # refused here where the sweep would refuse a command
    return plan


def price_tables(
    cal: Calibration,
    tables: list[int] | None = None,
    claims_file=None,
    sweeps_dir: Path = SWEEPS,
    runs_root: Path | None = None,
    until_decided: bool = False,
    runs_per_gpu: int = 1,
) -> list[PricedTable]:
    """Every claim line of `tables` (default: every table with a claim the paper prints a number for and a sweep file
    in `sweeps_dir`) priced on its sweep file's dry run (with `--runs-per-gpu runs_per_gpu`)."""
    claims = load_claims(claims_file)
    known = sorted({c.table for c in claims})
    # by default the tables with a paper number to aim the seeds at: not Lukasik et al.'s (Tables 11-13, none printed)
    aimed = sorted({c.table for c in claims if c.paper_prints})
    wanted = [t for t in aimed if (sweeps_dir / f"table{t}.yaml").is_file()] if tables is None else tables
    unknown = [t for t in wanted if t not in known]
    if unknown:
        raise UserError(
            f"--tables {' '.join(map(str, unknown))}: no claim of {claims_file or 'paper_tables/claims.csv'} is about "
            f"that table; the tables with claims are {' '.join(map(str, known))}."
        )
    if not wanted:
        raise UserError(
            f"{sweeps_dir} holds no sweep file of a table with a claim (tableN.yaml for N in "
            f"{' '.join(map(str, aimed))}): pass --sweeps-dir pointing at sweeps/ or sweeps/mnist1d/."
        )
    for t in wanted:  # a missing file is an error before any table is planned
        sweep_file(t, sweeps_dir)
    found = [
        price_table(t, [c for c in claims if c.table == t], cal, sweeps_dir, runs_root, until_decided, runs_per_gpu)
        for t in wanted
    ]
    if not any(p.lines for p in found):
        why = "; ".join(s for p in found for s in p.skipped)
        raise UserError(f"No claim line of Table(s) {' '.join(map(str, wanted))} can be planned: {why}.")
    return found


def plan_within(found: list[PricedTable], budget: float, cal: Calibration, gpu_model: str | None = None) -> BudgetPlan:
    """The lines of `found` chosen for the most expected decisions, their commands' dry runs within `budget` (chosen
    again within less while they price more: the commands may price a shared run twice)."""
    items = [line.item for p in found for line in p.lines]
    hours = {k: v for p in found for k, v in p.hours.items()}
    cheapest = min(sum(hours[r] for r in o.runs) for item in items for o in item.options)
    if budget < cheapest:
        raise UserError(
            f"--budget {budget:g} {cal.hours_unit} buys no claim line: the cheapest line of Table(s) "
            f"{' '.join(str(p.table) for p in found)} costs {hours_text(cheapest)} {cal.hours_unit} at 2 seeds "
            f"({cal.gpu}). Raise the budget to at least that, or plan other tables with --tables."
        )
    within = budget
    for _ in range(RETRIES):
        plan = BudgetPlan(budget, found, choose(items, hours, within), cal, gpu_model, within)
        over = plan.priced() - budget
        if over <= 1e-9:
            break
        within -= over
    if not plan.choice.picked:
        raise UserError(
            f"--budget {budget:g} {cal.hours_unit} buys no claim line with a chance of being decided: the lines it "
            f"affords are decided by the ledger's test too rarely at the seeds their sweep files offer ({cal.gpu}). "
            "Raise the budget, offer seeds until decided (--until-decided), or plan other tables with --tables."
        )
    return plan
