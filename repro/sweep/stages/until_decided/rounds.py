"""The stage's decision on a plan: each claim line walked through the design's looks on the runs that are done, the
seeds each line still needs, and the further rounds' runs that no undecided line needs held.

A line's look k reads the first n_k seeds of the sweep's order (its seeds, then the further ones) in every cell it
contrasts; it stops at the first look whose repeated confidence interval decides it (repro/claims/sequential.py), and
keeps that verdict whatever seeds its cells later get for other lines. The decision is found again from the runs each
time it is asked (nothing is remembered between commands), so a killed round, run again, is the same round."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from repro.claims.sequential import Looks, SequentialDesign, at_look, repeated_p
from repro.claims.sequential_record import DECIDED, NOT_SEQUENTIAL, TRAINING, UNDECIDED, LineRecord
from repro.claims.verdicts import sequential_verdict
from repro.sweep.plan import SUBMITTABLE, Plan
from repro.sweep.spec.model import PlannedRun
from repro.sweep.stages.until_decided.table_lines import (
    ClaimLine,
    claim_lines,
    collapse_declared,
    finished_values,
    floor_of,
    reported_runs,
)
from repro.sweep.stages.until_decided.until_decided_spec import further_seeds


@dataclass(frozen=True)
class LineState:
    """Where one line stands: its record (state, seeds, look, verdict) and the seeds per cell it needs now."""

    line: ClaimLine
    record: LineRecord
    needs: int  # the first `needs` seeds of the sweep's order, in every cell of the line
    floor: float
    looks: Looks  # its looks and boundaries (the collapse guard's where a method of the line declares collapse)
    sd: float | None = None  # the sd of its per-seed contrasts over the seeds done (two or more), else None

    @property
    def sequential(self) -> bool:
        return self.record.state != NOT_SEQUENTIAL


@dataclass(frozen=True)
class Walk:
    """The sweep's design at its seeds: the seed order, the looks, every line's state."""

    design: SequentialDesign
    order: tuple[int, ...]
    looks: Looks
    lines: tuple[LineState, ...]

    @property
    def first(self) -> int:
        return self.looks.seeds[0]

    def round_of(self, seed: int) -> int | None:
        """The round (2, 3, ...: round 1 is the sweep's own seeds) a further seed is trained in; None: not one."""
        return round_of(self.order, self.looks, seed)

    def text(self) -> str:
        return self.design.text(self.first)


def round_of(order: tuple[int, ...], looks: Looks, seed: int) -> int | None:
    """The round of `seed` in a sweep whose seeds, in order, are `order` and whose looks are `looks`."""
    if seed not in order[looks.seeds[0] :]:
        return None
    at = order.index(seed)
    return next(k + 1 for k, n in enumerate(looks.seeds) if at < n)


def phase_of(round_: int) -> str:
    """The phase a further round's runs carry (the plan's tables show it after the run's stage)."""
    return f"round {round_}"


def is_round_run(run: PlannedRun, walk: Walk) -> bool:
    """A run this stage added: a further seed's, with that round's phase."""
    round_ = walk.round_of(run.seed)
    return round_ is not None and run.phase == phase_of(round_)


def walk_lines(plan: Plan, design: SequentialDesign) -> Walk:
    """Every line of the plan's table walked through the looks on the runs done in the plan's output root."""
    spec = plan.spec
    order = (*spec.seeds, *further_seeds(spec, design))
    looks = design.at(len(spec.seeds))
    reported = reported_runs(plan.runs)
    values = finished_values(reported, plan.output_root, spec.metric)
    states = []
    for line in claim_lines(spec):
        first = reported.get((line.cells[0][1], line.cells[0][2], spec.seeds[0]))
        floor = floor_of(spec, first.config if first else None)
        own = line_looks(line, design, reported, spec.seeds)
        states.append(_walk(line, values, set(reported), order, own, floor, design))
    return Walk(design, order, looks, tuple(states))


def line_looks(
    line: ClaimLine, design: SequentialDesign, reported: dict[tuple[str, str, int], PlannedRun], seeds: Sequence[int]
) -> Looks:
    """The line's looks from the sweep's `seeds`: the collapse guard's boundaries where the method of one of its
    cells' runs declares its seeds may collapse (and the design guards such lines), else the normal ones."""
    return design.at(len(seeds), collapse_declared(line, reported, seeds[0]) is not None)


def _walk(
    line: ClaimLine,
    values: dict[tuple[str, str, int], float],
    planned: set[tuple[str, str, int]],
    order: tuple[int, ...],
    looks: Looks,
    floor: float,
    design: SequentialDesign,
) -> LineState:
    claim = line.claim
    at = dict(table=claim.table, claim=claim.name, column=line.anchor, looks=len(looks.seeds), guarded=looks.guard)
    ok, why = line.decidable(floor, design)
    if not ok or len(looks.seeds) < 2:
        why = why or f"the sweep already runs {looks.seeds[0]} seeds, the most allowed"
        return LineState(line, LineRecord(state=NOT_SEQUENTIAL, seeds=looks.seeds[0], look=1, why=why, **at),
                         looks.seeds[0], floor, looks)  # fmt: skip
    sd = None
    for k, n in enumerate(looks.seeds):
        keys = [[(row, column, seed) for seed in order[:n]] for _, row, column in line.cells]
        if not all(key in planned for cell in keys for key in cell):
            why = "its cells' further seeds are not planned (a cell of another data set's test size?)"
            return LineState(line, LineRecord(state=NOT_SEQUENTIAL, seeds=looks.seeds[0], look=1, why=why, **at),
                             looks.seeds[0], floor, looks)  # fmt: skip
        if not all(key in values for cell in keys for key in cell):
            return LineState(line, LineRecord(state=TRAINING, seeds=n, look=k + 1, **at), n, floor, looks, sd)
        per_seed = [sum(c * values[cell[i]] for (c, _, _), cell in zip(line.cells, keys)) for i in range(n)]
        contrasts = np.array([per_seed])
        sd = float(np.std(per_seed, ddof=1))
        now = at_look(looks, k, contrasts, floor, paper=line.paper.value, margin=line.margin)
        low, high = float(now.low[0]), float(now.high[0])
        verdict = sequential_verdict(low, high, line.paper.value, line.paper.side, line.margin)
        last = k == len(looks.seeds) - 1
        if bool(now.stop[0]) or last:
            state = DECIDED if bool(now.stop[0]) else UNDECIDED
            p = repeated_p(looks, k, _allowed(float(now.diff[0]), float(now.se[0]), line))
            record = LineRecord(state=state, seeds=n, look=k + 1, verdict=str(verdict), low=low, high=high, p=p, **at)
            return LineState(line, record, n, floor, looks, sd)
    raise AssertionError("a walk ends at its last look")


def _allowed(diff: float, se: float, line: ClaimLine) -> float:
    """The widest half-width multiplier at which the line's interval still decides it the paper's way: a gain or
    interaction, 0 excluded on the paper's side; a comparable claim, the interval inside the margin."""
    if line.margin is None:
        return line.paper.side * diff / se
    return (line.margin - abs(diff)) / se


def needed_runs(plan: Plan, walk: Walk) -> set[str]:
    """The runs the lines need now: each line's cells at the seeds it needs, with what they depend on."""
    reported = reported_runs(plan.runs)
    wanted = [
        reported[(row, column, seed)]
        for state in walk.lines
        for _, row, column in state.line.cells
        for seed in walk.order[: state.needs]
        if (row, column, seed) in reported
    ]
    needed: set[str] = set()
    todo = [run.run_id for run in wanted]
    while todo:
        rid = todo.pop()
        if rid not in needed and rid in plan.unique:
            needed.add(rid)
            todo += list(plan.unique[rid].depends_on)
    return needed


def hold_undecided(plan: Plan, walk: Walk) -> tuple[int, int]:
    """Hold every further round's run that no line needs now: until an earlier look is done where a line still
    training may need it later, for good (not waiting: the table is complete without it) where every line of its
    cell is decided; returns (held, let go)."""
    needed = needed_runs(plan, walk)
    open_cells = {(row, column) for state in walk.lines if state.record.state == TRAINING for _, row, column in
                  state.line.cells}  # fmt: skip
    held = going = 0
    for rid, run in plan.unique.items():
        if not is_round_run(run, walk) or plan.status[rid].state not in SUBMITTABLE:
            continue
        if rid in needed:
            going += 1
            continue
        round_ = walk.round_of(run.seed)
        if (run.row, run.column) in open_cells:
            plan.hold(rid, f"until decided: round {round_} waits for an earlier look of its undecided claim lines")
        else:
            plan.hold(rid, f"until decided: round {round_} is not needed (its claim lines are decided)", waits=False)
        held += 1
    return held, going
