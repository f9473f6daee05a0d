"""What a table's seeds can decide, before any run: `repro sweep FILE --dry-run` prints it beside the price, so a user
sees which of the paper's claims their seeds could settle before paying for them.

Per claim and column the sweep plans (repro/claims/claim.py), from the paper's own spread (each cell's printed std,
taken at least at half its last printed digit and at one test image of the sweep's data; a cell printed without one
takes its prior, repro/claims/paper.py, and the line says so), in the design the ledger will choose for the planned
runs (repro/claims/pairing.py): the smallest contrast the planned seeds detect with 80% power (two-sided, 5%; for a
"comparable" claim, the smallest margin two one-sided tests show when the rows are level), and the seeds per cell
that would decide the paper's own contrast, both from the ledger's decision model (repro/claims/decision.py).
`repro ledger` prints the same from our spread once runs exist (analysis/ledger/).
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence

from tabulate import tabulate

from repro.claims.claim import Claim, term_columns
from repro.claims.decision import LineModel
from repro.claims.load import load_claims
from repro.claims.pairing import choose_design, shared_draws
from repro.claims.stats import MAX_SEEDS, POWER, Design
from repro.data.sizes import run_sizes
from repro.errors import UserError
from repro.runs.metrics import is_accuracy
from repro.runs.rundir import flatten

LARGEST_TEST_SET = 10_000  # CIFAR-10/100's test images
REPORTED = ("single", "final")  # the stages whose runs a table reports (the ledger judges those)


class PlannedCell(Protocol):
    row: str
    column: str
    seed: Any
    config: Any  # its stage (`stage`) is read where it has one: a run without one counts as reported


class SweepSpecLike(Protocol):
    table: int | None
    metric: str
    seeds: list[int]


class PlanLike(Protocol):
    """What this needs of repro.sweep.plan.Plan (the sweep layer sits above this one)."""

    spec: SweepSpecLike
    runs: Sequence[PlannedCell]


def seed_power_text(plan: PlanLike, claims: Sequence[Claim] | None = None) -> str:
    """The dry run's table of what the planned seeds can decide, for the claims of the sweep's table ("" when the
    sweep is no table of the paper, or the table has no claims)."""
    table = getattr(plan.spec, "table", None)
    if table is None:
        return ""
    if claims is None:
        try:
            claims = load_claims(tables=[int(table)])
        except UserError as err:  # the claims ship with the repository; a dry run still prices without them
            return f"What the seeds can decide: not known here ({err})"
    if not claims:
        return ""
    configs = reported_configs(plan.runs)
    seeds = {seed for (_, seed) in configs}
    n = len(getattr(plan.spec, "seeds", None) or seeds)  # the sweep's own seeds (not a stage's further rounds)
    percent = is_accuracy(getattr(plan.spec, "metric", ""))
    cells = list(dict.fromkeys(cell for cell, _ in configs))
    rows, absent, recorded = [], [], []
    for claim in claims:
        anchors = claim.anchors(cells)
        if not anchors:
            absent.append(claim.name)
        elif claim.kind.needs_measure:  # the paper prints no spread for what its text states
            recorded.append(claim.name)
            continue
        for anchor in anchors:
            first = next(config for (cell, _), config in configs.items() if cell == line_cells(claim, anchor)[0])
            design = planned_design(line_cells(claim, anchor), configs)
            rows.append(_line(claim, anchor, n, one_image(first, percent), design))
    if not rows:
        return ""
    below = sum(1 for r in rows if r[-1])
    head = (
        f"What {n} seed(s) per cell can decide (Table {table}'s claims, paper_tables/claims.csv), before any run: "
        f"from the paper's spread (each cell's printed std over its 3 runs, at least one test image), in the "
        f"design the ledger will choose, with {POWER:.0%} power at a two-sided 5% (comparable claims: the smallest "
        "margin two one-sided 5% tests show when the rows are level); seeds to decide: to show a sign, rule out "
        "the paper's contrast or settle the margin with that power. `repro ledger` says the same from our spread "
        "once runs exist."
    )
    body = tabulate(
        [r[:-1] for r in rows],
        headers=["Claim", "Column", "Paper Δ", f"Detectable with {n} seeds", "Seeds to decide the paper's Δ"],
        tablefmt="github",
        disable_numparse=True,
    )
    tail = [
        f"{below} of {len(rows)} lines cannot be decided with {n} seeds with {POWER:.0%} power when the truth is the "
        "paper's contrast."
    ]
    if recorded:
        tail.append("Recorded quantities (the paper prints no spread for them; judged from our runs): "
                    + "; ".join(recorded) + ".")  # fmt: skip
    if absent:
        tail.append("Not planned by this sweep: " + "; ".join(absent) + ".")
    return "\n".join([head, body, *tail])


def reported_configs(runs: Sequence[PlannedCell]) -> dict[tuple[tuple[str, str], Any], Any]:
    """((row, column), seed) -> the config of the run the table reports there."""
    found = {}
    for run in runs:
        if getattr(run, "stage", REPORTED[0]) in REPORTED:
            found.setdefault(((run.row, run.column), run.seed), run.config)
    return found


def line_cells(claim: Claim, anchor: str) -> list[tuple[str, str]]:
    """The (row, column) of each term of the claim's line in column `anchor`."""
    return [(t.row, c) for t, c in zip(claim.terms, term_columns(claim.terms, anchor))]


def planned_design(cells: Sequence[tuple[str, str]], configs: dict[tuple[tuple[str, str], Any], Any]) -> Design:
    """The design the ledger will choose for these cells' planned runs (the same seeds in every cell), read from
    their configs as the ledger reads its runs' (flattened)."""
    by_cell = [{seed: flatten(config) for (c, seed), config in configs.items() if c == cell} for cell in cells]
    return choose_design(len(cells), True, shared_draws(by_cell))


def _line(claim: Claim, anchor: str, n: int, floor: float, design: Design) -> list[Any]:
    paper = claim.paper_difference(anchor)
    spread = paper.spread(floor, prior=True)
    if spread is None or claim.kind.judge is None or n < 2:
        why = "no std printed" if spread is None or claim.kind.judge is None else "one seed: no interval"
        why = why if claim.paper_prints else "no paper number: judged on our runs alone"
        return [claim.name, anchor, paper.text(), why, "", False]
    model = LineModel(spread, floor, design, paper.value, claim.margin)
    detectable = model.detectable(n)
    needed = None if paper.value is None else model.seeds_for(paper.value)
    shown = f"{detectable:.2f}" + (f" (margin ±{claim.margin:g})" if claim.margin is not None else "")
    shown += " (prior std)" if paper.uses_prior else ""
    short = paper.value is not None and (needed is None or needed > n)
    return [claim.name, anchor, paper.text(), shown, _seeds_text(needed, paper.value), short]


def _seeds_text(needed: int | None, value: float | None) -> str:
    if value is None:
        return ""
    return str(needed) if needed is not None else f"more than {MAX_SEEDS}"


def one_image(config: Any, percent: bool) -> float:
    """One test image in the metric's units (the resolution no spread goes below); where the config does not say
    how large its test set is, one image of the largest the paper uses (CIFAR's 10,000)."""
    try:
        test = run_sizes(config)[2]
    except (UserError, KeyError, TypeError, AttributeError):
        test = LARGEST_TEST_SET
    return (100.0 if percent else 1.0) / max(int(test), 1)
