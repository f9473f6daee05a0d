"""What a plan is expected to decide, read as the ledger will read the runs its commands train: every claim line
whose cells all get runs (the lines the plan chose, and any other whose cells they train), at the seeds each of its
cells gets (a cell another line trains further counts its every run: unequal seeds are judged by Welch's interval),
under three truths: the paper's contrasts, half of them, and none. Per truth: the expected count of each kind of
decision (repro/claims/decision.py: on the paper's side, opposite, the paper's value ruled out, equivalent, not
equivalent), the claims expected to hold after the ledger's Holm correction (repro/planning/holm_draws.py), and the
GPU-hours expected (the rounds of seeds until decided at their chance under that truth; at worst all of them)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

from repro.claims.decision import Outcomes
from repro.claims.sequential import Looks, stop_probabilities
from repro.planning.commands import SweepCommand, priced
from repro.planning.lines import PlanLine, PricedTable


@dataclass(frozen=True)
class Truth:
    """Every line's true contrast: the paper's times `scale`."""

    name: str
    scale: float


TRUTHS = (Truth("the paper's", 1.0), Truth("half the paper's", 0.5), Truth("none (0)", 0.0))


@dataclass(frozen=True)
class Judged:
    """A line the ledger will judge from a plan's runs: its cells' seeds (its terms' order), or None where its seeds
    are added until decided."""

    line: PlanLine
    seeds: tuple[int, ...] | None

    def truth(self, truth: Truth) -> float:
        return (self.line.model.paper or 0.0) * truth.scale

    def outcomes(self, truth: Truth) -> Outcomes:
        if self.seeds is None:
            assert self.line.looks is not None
            return self.line.model.until_decided(self.line.looks, self.truth(truth))
        return self.line.model.outcomes(self.seeds, self.truth(truth))

    def seeds_text(self) -> str:
        if self.seeds is None:
            assert self.line.looks is not None
            return f"{self.line.looks.seeds[0]}-{self.line.looks.seeds[-1]} until decided"
        return str(self.seeds[0]) if len(set(self.seeds)) == 1 else " vs ".join(map(str, self.seeds))


@dataclass(frozen=True)
class Expected:
    """What the plan is expected to decide under one truth, and to cost."""

    truth: Truth
    outcomes: Outcomes
    holds: float
    hours: float


def judged_lines(tables: Sequence[PricedTable], commands: Sequence[SweepCommand]) -> list[Judged]:
    """Every line of the tables the ledger will judge from the commands' runs (a line with a cell trained both at
    fixed seeds and until decided is left out: how many runs it gets is not planned)."""
    found = []
    for table in tables:
        fixed, rounds = trained_cells(commands, table)
        for line in table.lines:
            if all(t in rounds for t in line.terms) and line.looks is not None and not fixed.keys() & set(line.terms):
                found.append(Judged(line, None))
            elif all(t in fixed for t in line.terms) and not rounds & set(line.terms):
                found.append(Judged(line, tuple(fixed[t] for t in line.terms)))
    return found


def trained_cells(commands: Sequence[SweepCommand], table: PricedTable) -> tuple[dict, set]:
    """The table's cells the commands train: {cell: seeds} at fixed seeds, and those trained until decided."""
    fixed: dict = {}
    rounds: set = set()
    for command in commands:
        if command.table is not table:
            continue
        for cell in command.cells():
            if command.until_decided:
                rounds.add(cell)
            else:
                fixed[cell] = max(fixed.get(cell, 0), command.seeds)
    return fixed, rounds


def expectations(
    tables: Sequence[PricedTable],
    commands: Sequence[SweepCommand],
    judged: list[Judged],
    holds: Callable[[list[Judged], Truth], float],
) -> list[Expected]:
    """Per truth of TRUTHS: the expected decisions by kind, the claims holding after Holm (`holds(judged, truth)`)
    and the expected GPU-hours."""
    found = []
    for truth in TRUTHS:
        total = sum((j.outcomes(truth) for j in judged), Outcomes())
        hours = priced(list(commands)) + rounds_delta(tables, commands, truth)
        found.append(Expected(truth, total, holds(judged, truth), hours))
    return found


def rounds_delta(tables: Sequence[PricedTable], commands: Sequence[SweepCommand], truth: Truth | None) -> float:
    """The GPU-hours the rounds of seeds until decided add under `truth` beyond what the commands price (at the
    paper's truth); None: at worst, every round trained."""
    delta = 0.0
    for table in tables:
        _, cells = trained_cells(commands, table)
        if table.rounds is None or not cells:
            continue
        for run in table.rounds.round_runs.values():
            if run.cell in cells:
                at = 1.0 if truth is None else round_chance(table, run.cell, run.round, truth)
                delta += run.whole * (at - round_chance(table, run.cell, run.round, TRUTHS[0]))
    return delta


def round_chance(table: PricedTable, cell: tuple[str, str], round_: int, truth: Truth) -> float:
    """The chance a cell's round is needed: any line of the cell that may be bought until decided still undecided
    after the look before it (its lines taken as independent, as the sweep's stage prices it)."""
    going = 1.0
    for line in table.lines:
        if line.looks is None or cell not in line.terms:
            continue
        model = line.model
        value = (model.paper or 0.0) * truth.scale
        going *= (
            1.0 - _left(line.looks, value, model.spread.contrast_sd, model.floor, model.paper, model.margin)[round_ - 2]
        )
    return 1.0 - going


@lru_cache(maxsize=1024)
def _left(looks: Looks, effect: float, sd: float, floor: float, paper: float | None, margin: float | None):
    """P(still undecided after each look), simulated as the sweep's stage prices its rounds."""
    return stop_probabilities(looks, effect, sd, floor, paper=paper, margin=margin)
