"""What a table's seeds can decide, before any run: `repro sweep FILE --dry-run` prints it beside the price, so a user
sees which of the paper's claims their seeds could settle before paying for them.

Per claim and column the sweep plans (repro/claims/claim.py), from the paper's own spread (each cell's printed std,
taken at least at half its last printed digit and at one test image of the sweep's data): the smallest contrast the
planned seeds detect with 80% power (two-sided, 5%; for a "comparable" claim, the smallest margin two one-sided tests
show when the rows are level), and the seeds per cell that would decide the paper's own contrast. `repro ledger`
prints the same from our spread once runs exist (analysis/ledger/).
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence

from tabulate import tabulate

from repro.claims.claim import Claim, term_columns
from repro.claims.load import load_claims
from repro.claims.stats import MAX_SEEDS, POWER, WELCH, Estimate
from repro.data.sizes import run_sizes
from repro.errors import UserError
from repro.runs.metrics import is_accuracy

LARGEST_TEST_SET = 10_000  # CIFAR-10/100's test images


class PlannedCell(Protocol):
    row: str
    column: str
    seed: Any
    config: Any


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
    configs: dict[tuple[str, str], Any] = {}
    seeds: set[Any] = set()
    for run in plan.runs:
        configs.setdefault((run.row, run.column), run.config)
        seeds.add(run.seed)
    n = len(getattr(plan.spec, "seeds", None) or seeds)  # the sweep's own seeds (not a stage's further rounds)
    percent = is_accuracy(getattr(plan.spec, "metric", ""))
    rows, absent, recorded = [], [], []
    for claim in claims:
        anchors = claim.anchors(list(configs))
        if not anchors:
            absent.append(claim.name)
        elif claim.kind.needs_measure:  # the paper prints no spread for what its text states
            recorded.append(claim.name)
            continue
        for anchor in anchors:
            first = configs[(claim.terms[0].row, term_columns(claim.terms, anchor)[0])]
            rows.append(_line(claim, anchor, n, one_image(first, percent)))
    if not rows:
        return ""
    below = sum(1 for r in rows if r[-1])
    head = (
        f"What {n} seed(s) per cell can decide (Table {table}'s claims, paper_tables/claims.csv), before any run: "
        f"from the paper's spread (each cell's printed std over its 3 runs, at least one test image), with "
        f"{POWER:.0%} power at a two-sided 5% (comparable claims: the smallest margin two one-sided 5% tests "
        "show when the rows are level). `repro ledger` says the same from our spread once runs exist."
    )
    body = tabulate(
        [r[:-1] for r in rows],
        headers=["Claim", "Column", "Paper Δ", f"Detectable with {n} seeds", "Seeds to decide the paper's Δ"],
        tablefmt="github",
        disable_numparse=True,
    )
    tail = [
        f"{below} of {len(rows)} lines cannot be decided with {n} seeds: the paper's contrast is below what they "
        "detect (comparable: the declared margin is below what they show)."
    ]
    if recorded:
        tail.append("Recorded quantities (the paper prints no spread for them; judged from our runs): "
                    + "; ".join(recorded) + ".")  # fmt: skip
    if absent:
        tail.append("Not planned by this sweep: " + "; ".join(absent) + ".")
    return "\n".join([head, body, *tail])


def _line(claim: Claim, anchor: str, n: int, floor: float) -> list[Any]:
    paper = claim.paper_difference(anchor)
    spread = paper.spread(floor)
    judge = claim.kind.judge
    if spread is None or judge is None or n < 2:
        why = "no std printed" if spread is None or judge is None else "one seed: no interval"
        why = why if claim.paper_prints else "no paper number: judged on our runs alone"
        return [claim.name, anchor, paper.text(), why, "", False]
    se, dof = spread.at(n)
    planned = Estimate(WELCH, paper.value or 0.0, se, dof)
    detectable = judge.detectable(planned)
    needed = judge.seeds_for(paper.value, spread, claim.margin)
    shown = f"{detectable:.2f}" + (f" (margin ±{claim.margin:g})" if claim.margin is not None else "")
    short = judge.undecidable(paper.value, detectable, claim.margin)
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
