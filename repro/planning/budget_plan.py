"""`repro plan`'s answer: the chosen lines with their seeds, GPU-hours and probabilities, and the `repro sweep`
commands that train their cells, priced as those commands' dry runs price them (packed K runs per GPU where the plan
was asked to: repro/planning/packed.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from tabulate import tabulate

from repro.claims.load import load_claims
from repro.errors import UserError
from repro.planning.choose import Choice, Item, choose
from repro.planning.commands import SweepCommand, priced, table_commands
from repro.planning.lines import SWEEPS, Cell, PlanLine, PricedTable, price_table, sweep_file
from repro.planning.packed import check_commands_fit, packing_text
from repro.planning.until_decided import START
from repro.sweep.budget.calibration import Calibration
from repro.sweep.budget.costs import hours_text
from repro.sweep.budget.packing import check_runs_per_gpu

RETRIES = 5  # choices within a budget lowered by what the commands price above it
# the sweep's budget cap prices the runs it has not started unpacked, and counts each packed run's own wall time
UNPACKED_CAP = "; it prices and counts each run unpacked, so it holds runs before the packed hours reach H"


@dataclass
class BudgetPlan:
    budget: float
    tables: list[PricedTable]
    choice: Choice
    calibration: Calibration
    gpu_model: str | None = None  # the calibration's name where `--gpu` named one: the commands name it too

    @property
    def runs_per_gpu(self) -> int:
        """The runs packed per GPU its tables were priced at (every table at the same)."""
        return self.tables[0].runs_per_gpu

    @property
    def lines(self) -> list[PlanLine]:
        return [line for t in self.tables for line in t.lines]

    def chosen(self) -> list[PlanLine]:
        """The chosen lines, the most likely decided first (the order the table's cumulative columns add them in)."""
        picked = [line for line in self.lines if line.item.key in self.choice.picked]
        return sorted(picked, key=lambda line: -self.choice.picked[line.item.key].power)

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
                    else:
                        seeds_of[cell] = max(seeds_of.get(cell, 0), option.seeds)
            out += table_commands(table, seeds_of, self.gpu_model)  # a cell in both: its fixed seeds are counted on
            if rounds:
                rows, columns = tuple(dict.fromkeys(r for r, _ in rounds)), tuple(dict.fromkeys(c for _, c in rounds))
                out.append(SweepCommand(table, rows, columns, START, self.gpu_model, until_decided=True))
        return out

    def spread_text(self) -> str:
        """Whose spread the probabilities come from, and where our runs were looked for."""
        roots = list(dict.fromkeys(str(t.finished.root) for t in self.tables if t.finished and t.finished.root))
        if not roots:
            return "from the paper's spread"
        ours = [line for line in self.lines if line.ours]
        found = sum(len(t.finished.values) for t in self.tables if t.finished)
        if not found:
            return f"from the paper's spread (no finished run of these tables' cells in {', '.join(roots)})"
        return (
            f"from our runs' spread for the {len(ours)} of {len(self.lines)} lines whose cells have two or more "
            f"finished runs each in {', '.join(roots)} ({found} finished runs found; the spread column says which), "
            "else from the paper's"
        )

    def rounds_text(self) -> str:
        """What P(decision) and the hours mean for a line bought until decided, where one is."""
        if not any(o.until_decided for o in self.choice.picked.values()):
            return ""
        return (
            "; a line bought until decided (its command carries --until-decided): the chance the group-sequential "
            "design decides it at one of its looks (its interval excludes 0, or the paper's contrast), its hours "
            "expected (each further round at the chance it is needed; all of them if it stays undecided; the table "
            "takes a round's chance over every line of its cells, the command's dry run over the lines it selects)"
        )

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
                    f"{START}-{option.seeds} until decided" if option.until_decided else option.seeds,
                    hours_text(added),
                    f"{option.power:.2f}",
                    line.spread_text,
                    hours_text(total),
                    f"{expected:.2f}",
                ]
            )
        commands = self.commands()
        unit = self.calibration.hours_unit
        head = (
            f"Plan for {hours_text(self.budget)} {unit} ({self.calibration.gpu}, {self.calibration.provenance}), "
            f"chosen {self.choice.how}: {len(rows)} of {len(self.lines)} claim lines, expected decided "
            f"{self.choice.expected:.2f}, {hours_text(priced(commands))} {unit} as the commands below dry-run "
            f"({hours_text(self.choice.hours)} trained: a run two commands need trains once). P(decision): the power "
            f"of the line's test when the truth is the paper's contrast, {self.spread_text()}{self.rounds_text()}; "
            f"{unit}: what the line adds to the lines above it (shared cells paid once)."
        )
        table = tabulate(
            rows,
            headers=[
                "line",
                "cells",
                "seeds",
                unit,
                "P(decision)",
                "spread",
                f"cumulative {unit}",
                "cumulative expected",
            ],
            tablefmt="github",
            disable_numparse=True,
        )
        skipped = [s for t in self.tables for s in t.skipped]
        tail = [
            "",
            "What to run (`--dry-run` first; `--max-gpu-hours H` on a command starts nothing that would take its "
            f"runs past H {unit}, their measured time included{UNPACKED_CAP if self.runs_per_gpu > 1 else ''}):",
            *(c.text for c in commands),
        ]
        if skipped:
            tail += ["", "Not plannable:", *[f"  - {s}" for s in skipped]]
        packing = packing_text(commands, self.calibration, self.runs_per_gpu)
        return "\n".join([head, *packing, "", table, *tail])


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
    if not budget > 0:
        raise UserError(f"--budget {budget:g}: a budget is a positive number of {cal.hours_unit}, e.g. --budget 200.")
    runs_per_gpu = check_runs_per_gpu(runs_per_gpu, None)
    found = price_tables(cal, tables, claims_file, sweeps_dir, runs_root, until_decided, runs_per_gpu)
    plan = plan_within(found, budget, cal, gpu_model)
    check_commands_fit(plan.commands(), cal, runs_per_gpu)  # refused here where the sweep would refuse a command
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
    """The lines of `found` chosen for the most expected decisions, their commands' dry runs within `budget`."""
    items = [line.item for p in found for line in p.lines]
    hours = {k: v for p in found for k, v in p.hours.items()}
    cheapest = min(sum(hours[r] for r in o.runs) for item in items for o in item.options)
    if budget < cheapest:
        raise UserError(
            f"--budget {budget:g} {cal.hours_unit} buys no claim line: the cheapest line of Table(s) "
            f"{' '.join(str(p.table) for p in found)} costs {hours_text(cheapest)} {cal.hours_unit} at 2 seeds "
            f"({cal.gpu}). Raise the budget to at least that, or plan other tables with --tables."
        )
    fixed = [replace(i, options=tuple(o for o in i.options if not o.until_decided)) for i in items]
    plans = [_fitted(found, items, hours, budget, cal, gpu_model)]
    if fixed != items:  # greedy over more options is no better by construction: keep the fixed seeds' plan if better
        plans.append(_fitted(found, fixed, hours, budget, cal, gpu_model))
    return max(plans, key=lambda p: (priced(p.commands()) <= budget + 1e-9, p.choice.expected, -priced(p.commands())))


def _fitted(
    found: list[PricedTable],
    items: list[Item],
    hours: dict,
    budget: float,
    cal: Calibration,
    gpu_model: str | None,
) -> BudgetPlan:
    """The choice among `items` whose commands' dry runs fit the budget (chosen again within less while they do
    not: the commands may price a shared run twice)."""
    within = budget
    for _ in range(RETRIES):
        plan = BudgetPlan(budget, found, choose(items, hours, within), cal, gpu_model)
        over = priced(plan.commands()) - budget
        if over <= 0:
            break
        within -= over
    return plan
