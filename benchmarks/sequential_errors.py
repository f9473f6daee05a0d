"""The errors and the decisions of seeds until decided (repro/claims/sequential.py), simulated: many lines of per-seed
contrasts with a known true difference, each walked through the design's looks by the project's own decision at a
look (`at_look`, what the sweep's stage takes) and read by its verdict (`sequential_verdict`).

    python -m benchmarks.sequential_errors                       # 5,000 sequences per row (under a minute)
    python -m benchmarks.sequential_errors --sequences 20000     # the table in docs/sequential-seeds.md

Scenarios: the per-seed contrast (ours minus the other row, one seed) is normal, or skewed: ours collapses on a share of
seeds (`--collapse 0.1 6`: 10% of seeds drop by 6 sds of the seed-to-seed noise of the seeds that do not, as MentorNet's
PD students did from a poor mentor), the truth being the contrast's mean. Truths, in sds of the per-seed contrast: zero,
the paper's (`--paper`, 1 sd), half of it, reversed. Designs: Pocock-type and O'Brien-Fleming-type spending, each with
the collapse guard off and on (repro/claims/sequential_bounds.py); O'Brien-Fleming-type spending guarded only from the
look whose seeds hold a collapse ("guard once seen": the best any check of the seeds read, a test of normality or an
outlier rule, could do, as it knows which seeds collapsed); and a fixed count of `--max-seeds` seeds (one look, the same
calibrated boundary) for reference. The default design is O'Brien-Fleming-type spending, guarded on the lines of a
method that declares its seeds may collapse (`MethodDeclaration.seeds_may_collapse`): the "obrien_fleming" rows where no
method of the line declares it, the "obrien_fleming + guard" rows where one does.

Columns (each a share of the sequences; the design's stated levels beside them):
- false gain: a gain decided (its interval above 0) where the truth is 0 or reversed; stated at most 2.5%;
- of which seen: the false gains whose seeds read held a collapse (what a check of the seeds could see);
- wrong sign: a sign decided against the truth's (either sign where the truth is 0); stated 2.5% (5% at 0);
- paper ruled out: the paper's contrast excluded where it is the truth; stated at most 5%;
- consistent: decided "consistent with the paper" (on its side, the paper's contrast inside the interval);
- seeds: the expected seeds per cell read; most: the most any sequence read (never more than --max-seeds).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
from tabulate import tabulate

from repro.claims.sequential import SPENDING_NAMES, AtLook, Looks, SequentialDesign, at_look
from repro.claims.sequential_bounds import Collapse
from repro.claims.verdicts import (
    CONSISTENT,
    LARGER,
    NOT_REPRODUCED,
    OPPOSITE,
    SIGN_REPRODUCED,
    SMALLER,
    Verdict,
    sequential_verdict,
)

ON_THE_PAPERS_SIDE = (CONSISTENT, SMALLER, LARGER, SIGN_REPRODUCED)
RULING_OUT = (SMALLER, LARGER, OPPOSITE, NOT_REPRODUCED)  # a decided interval without the paper's contrast
FLOOR = 1e-9  # no floor on the spread: the contrasts are in their own sds


@dataclass(frozen=True)
class Outcome:
    """What one design did to one scenario's sequences."""

    false_gain: float | None
    seen: float | None  # false gains whose seeds read held a collapse (the others no look could tell from normal)
    wrong_sign: float
    ruled_out: float | None
    consistent: float
    seeds: float
    most: int


def contrasts(
    collapse: Collapse | None, truth: float, sequences: int, seeds: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-seed contrasts (sequences x seeds) of sd 1 and mean `truth`, normal or with seeds that collapse, and
    which seeds collapsed."""
    rng = np.random.default_rng(seed)
    if collapse is None:
        return truth + rng.standard_normal((sequences, seeds)), np.zeros((sequences, seeds), dtype=bool)
    p, depth = collapse.probability, collapse.depth
    values, dropped = collapse.draw_marked(rng, (sequences, seeds))
    return truth + values / np.sqrt(1.0 + p * (1.0 - p) * depth**2), dropped


@dataclass(frozen=True)
class Design:
    """A design compared: its looks; with `once_seen`, the guarded looks a sequence takes from the look whose seeds
    read hold a collapse (the others keep `looks`)."""

    name: str
    looks: Looks
    once_seen: Looks | None = None


def walk(
    design: Design, values: np.ndarray, dropped: np.ndarray, paper: float
) -> tuple[list[Verdict | None], np.ndarray]:
    """Each sequence's verdict where it stopped (None where undecided at the last look) and the seeds it read."""
    looks = design.looks
    going = np.ones(values.shape[0], dtype=bool)
    verdicts: list[Verdict | None] = [None] * values.shape[0]
    read = np.full(values.shape[0], looks.seeds[-1])
    for k, n in enumerate(looks.seeds):
        now = at_look(looks, k, values[:, :n], FLOOR, paper=paper, margin=None)
        if design.once_seen is not None:
            seen = dropped[:, :n].any(axis=1)
            guarded = at_look(design.once_seen, k, values[:, :n], FLOOR, paper=paper, margin=None)
            now = AtLook(*(np.where(seen, g, u) for g, u in zip(guarded, now)))
        for i in np.flatnonzero(now.stop & going):
            verdicts[i] = sequential_verdict(float(now.low[i]), float(now.high[i]), paper, 1, None)
            read[i] = n
        going &= ~now.stop
    return verdicts, read


def outcome(
    verdicts: list[Verdict | None], read: np.ndarray, dropped: np.ndarray, truth: float, paper: float
) -> Outcome:
    count = len(verdicts)
    gains = np.array([v in ON_THE_PAPERS_SIDE for v in verdicts])
    gain = float(gains.mean())
    seen = np.logical_or.accumulate(dropped, axis=1)[np.arange(count), read - 1]
    opposite = sum(v is OPPOSITE for v in verdicts) / count
    excluded = sum(v in RULING_OUT for v in verdicts) / count
    wrong = gain + opposite if truth == 0 else (opposite if truth > 0 else gain)
    return Outcome(
        false_gain=gain if truth <= 0 else None,
        seen=float((gains & seen).mean()) if truth <= 0 and dropped.any() else None,
        wrong_sign=wrong,
        ruled_out=excluded if truth == paper else None,
        consistent=sum(v is CONSISTENT for v in verdicts) / count,
        seeds=float(read.mean()),
        most=int(read.max()),
    )


def designs(first: int, max_seeds: int) -> list[Design]:
    """The designs compared: both spendings, the collapse guard off and on, O'Brien-Fleming-type guarded once a
    collapse is seen, and a fixed count for reference."""
    found = [
        Design(f"{spending}{' + guard' if guard else ''}", SequentialDesign(max_seeds, 1, spending).at(first, guard))
        for spending in SPENDING_NAMES
        for guard in (False, True)
    ]
    plain, guarded = (SequentialDesign(max_seeds, 1, "obrien_fleming").at(first, g) for g in (False, True))
    return [*found, Design("obrien_fleming, guard once seen", plain, guarded), Design(f"fixed {max_seeds} seeds",
            Looks((max_seeds,)))]  # fmt: skip


def percent(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sequences", type=int, default=5000, help="simulated lines per row (the doc: 20000)")
    parser.add_argument("--first", type=int, default=3, help="seeds per cell at the first look (a table's 3)")
    parser.add_argument("--max-seeds", type=int, default=10)
    parser.add_argument("--paper", type=float, default=1.0, help="the paper's contrast, in per-seed sds")
    parser.add_argument("--collapse", type=float, nargs=2, default=(0.1, 6.0), metavar=("SHARE", "SDS"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    collapse = Collapse(*args.collapse)
    scenarios = [("normal", None), (f"skewed ({collapse.text()})", collapse)]
    truths = [("zero", 0.0), ("paper's", args.paper), ("half", args.paper / 2), ("reversed", -args.paper)]
    rows = []
    for s, (scenario, shape) in enumerate(scenarios):
        for t, (truth_name, truth) in enumerate(truths):
            values, dropped = contrasts(shape, truth, args.sequences, args.max_seeds, args.seed + 10 * s + t)
            for design in designs(args.first, args.max_seeds):
                name, n = design.name, design.looks.seeds[-1]
                verdicts, read = walk(design, values[:, :n], dropped[:, :n], args.paper)
                o = outcome(verdicts, read, dropped, truth, args.paper)
                rows.append([scenario, truth_name, name, percent(o.false_gain), percent(o.seen), percent(o.wrong_sign),
                             percent(o.ruled_out), percent(o.consistent), f"{o.seeds:.2f}", o.most])  # fmt: skip
    print(
        f"{args.sequences} sequences per row; looks at {args.first}..{args.max_seeds} seeds per cell, one more a "
        f"round; the paper's contrast {args.paper:g} per-seed sd; stated: false gain 2.5%, wrong sign 2.5% (5% at "
        "zero), paper ruled out 5%; Monte Carlo sd of a share near 2.5%: "
        f"{100 * np.sqrt(0.025 * 0.975 / args.sequences):.2f} points."
    )
    headers = ["scenario", "truth", "design", "false gain", "of which seen", "wrong sign", "paper ruled out",
               "consistent", "seeds", "most"]  # fmt: skip
    print(tabulate(rows, headers=headers, tablefmt="github"))


if __name__ == "__main__":
    main()
