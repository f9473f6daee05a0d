"""What the further rounds are expected to cost: each round's chance of being needed, from the paper's spread when
the sweep is planned (every planned run carries it as its `share`, so the plan's estimate prices it) and from ours
once runs exist, and the dry run's lines: the expected and the worst-case added GPU-hours.

A line's chance of reaching look k is simulated (repro/claims/sequential.py, `stop_probabilities`) with the paper's
contrast as the truth and a per-seed spread of the contrast: ours (the sd of its per-seed contrasts over the seeds
done) where two or more seeds are done, else the paper's, sqrt(sum of each cell's printed std squared) (cells taken
as independent: no pairing gain is assumed). A cell is trained in a round when any of its lines needs it; its lines
are taken as independent there (1 - prod(1 - p)), which overstates a little where they share cells."""

from __future__ import annotations

import math
from functools import lru_cache

from repro.claims.sequential import Looks, stop_probabilities
from repro.claims.sequential_record import TRAINING
from repro.sweep.budget.calibration import load_calibration
from repro.sweep.budget.costs import run_gpu_hours
from repro.sweep.budget.estimate import hours_text
from repro.sweep.plan import Plan
from repro.sweep.stages.until_decided.rounds import LineState, Walk, is_round_run
from repro.sweep.stages.until_decided.table_lines import ClaimLine


@lru_cache(maxsize=1024)
def _left(looks: Looks, effect: float, sd: float, floor: float, paper: float | None, margin: float | None):
    return stop_probabilities(looks, effect, sd, floor, paper=paper, margin=margin)


def paper_sd(line: ClaimLine, floor: float) -> float | None:
    """The per-seed sd of the line's contrast from the paper's printed stds (None: the paper prints none)."""
    model = line.model(floor)
    return None if model is None else model.spread.contrast_sd


def line_chances(line: ClaimLine, looks: Looks, floor: float, sd: float | None = None) -> tuple[float, ...]:
    """P(the line is undecided after look k), k = 1..K-1: the chance it needs round k+1; `sd` ours, else the
    paper's."""
    sd = sd if sd is not None else paper_sd(line, floor)
    if sd is None:
        return (1.0,) * (len(looks.seeds) - 1)
    effect = line.paper.value or 0.0
    return _left(looks, effect, sd, floor, line.paper.value, line.margin)


def cell_chance(chances: list[tuple[float, ...]], round_: int) -> float:
    """The chance a cell is trained in round `round_` (2, 3, ...), any of its lines needing it."""
    going = 1.0
    for left in chances:
        going *= 1.0 - left[round_ - 2]
    return 1.0 - going


def ours_chance(state: LineState, walk: Walk, round_: int) -> float:
    """A line's chance of needing round `round_` from where it stands and our spread."""
    if state.record.state != TRAINING:
        return 0.0
    if round_ <= state.record.look:
        return 1.0
    left = line_chances(state.line, state.looks, state.floor, state.sd)
    return left[round_ - 2]


def price_text(plan: Plan, walk: Walk, gpu_model: str | None) -> str:
    """The dry run's lines: the rounds' added runs and GPU-hours, expected and worst-case, and the design."""
    spec, cal = plan.spec, load_calibration(gpu_model)
    added = [run for run in plan.unique.values() if is_round_run(run, walk)]
    sequential = [s for s in walk.lines if s.sequential]
    head = f"Seeds until decided ({spec.path}, Table {spec.table}): {walk.text()}."
    if not added:
        why = "no claim line of this table is decidable within the most seeds" if walk.lines else "no claim lines"
        return f"{head}\nNo further seeds are planned: {why}."
    hours = {run.run_id: run_gpu_hours(run.config, cal) for run in added}
    worst = sum(h or 0.0 for h in hours.values())
    expected = sum((hours[run.run_id] or 0.0) * run.share for run in added)
    lines = [
        head,
        f"{len(added)} further run(s) over {len(walk.looks.seeds) - 1} round(s), for the {len(sequential)} of "
        f"{len(walk.lines)} claim lines whose paper contrast is decidable within {walk.design.max_seeds} seeds.",
        f"Expected added GPU-hours, from the paper's spread: {hours_text(expected)}; worst case (every such line "
        f"undecided to {walk.design.max_seeds} seeds): {hours_text(worst)}.",
    ]
    if any(state.sd is not None for state in sequential):
        ours = 0.0
        for run in added:
            through = [s for s in sequential if (run.row, run.column) in {(r, c) for _, r, c in s.line.cells}]
            round_ = walk.round_of(run.seed) or 2
            going = 1.0 - math.prod(1.0 - ours_chance(s, walk, round_) for s in through)
            ours += (hours[run.run_id] or 0.0) * going * (plan.status[run.run_id].state != "done")
        lines.append(f"From our spread (the runs done so far): {hours_text(ours)} still expected.")
    unpriced = sum(h is None for h in hours.values())
    if unpriced:
        lines.append(f"{unpriced} of the runs have no calibrated price (counted as 0).")
    return "\n".join(lines)
