"""The stage's paragraphs: the design, then every claim line's state (decided at which seeds, with its verdict;
waiting for a round; undecided at the most seeds; not sequential and why), then the rounds' runs (`repro sweep
status`)."""

from __future__ import annotations

from collections import Counter

from tabulate import tabulate

from repro.sweep.plan import Plan
from repro.sweep.stages.until_decided.rounds import Walk, is_round_run


def lines_text(walk: Walk) -> str:
    """The design and each line's state, as printed with the verdicts after each look."""
    if not walk.lines:
        return (
            "Seeds until decided: no seeds are added, as this sweep plans no claim line (its file names no paper "
            "`table:` with claims in paper_tables/claims.csv, or it plans no column with every cell of one)."
        )
    rows = []
    for state in walk.lines:
        record = state.record
        interval = f"[{record.low:+.2f}, {record.high:+.2f}]" if record.low is not None else ""
        rows.append([record.claim, record.column, interval, record.text()])
    table = tabulate(rows, headers=["Claim", "Column", "Interval", "Sequential state"], tablefmt="github")
    return f"Seeds until decided: {walk.text()}.\n{table}"


def rounds_text(plan: Plan, walk: Walk) -> str:
    """Each further round: its seeds and its runs' states (held: not needed by an undecided line)."""
    by_round: dict[int, Counter] = {}
    seeds: dict[int, set[int]] = {}
    for rid, run in plan.unique.items():
        if not is_round_run(run, walk):
            continue
        round_ = walk.round_of(run.seed) or 0
        by_round.setdefault(round_, Counter())[plan.status[rid].state] += 1
        seeds.setdefault(round_, set()).add(run.seed)
    if not by_round:
        return ""
    rows = [
        [f"round {r}", ", ".join(map(str, sorted(seeds[r]))), ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))]
        for r, counts in sorted(by_round.items())
    ]
    first = ", ".join(map(str, walk.order[: walk.first]))
    head = f"Rounds of further seeds (round 1: the sweep's seeds {first}):"
    return head + "\n" + tabulate(rows, headers=["Round", "Seeds", "Runs"], tablefmt="github")
