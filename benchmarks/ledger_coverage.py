"""How often the ledger's 95% intervals hold the truth, on per-seed results fabricated with a known truth: the claims
of Tables 1, 2, 6 and 8 in the paper's own columns, each cell's true mean and seed-to-seed spread the paper's printed
mean and std (at least half its last digit), at 3, 5 and 10 seeds per cell.

The interval's design is the ledger's (repro/claims/judgement.py, `Line.design`), fixed by the runs' configs before
any value is drawn (repro/claims/pairing.py): two layouts of configs, each cell's run of seed s recorded with

- `shared`: the same `seed`, network and data set in every cell (as a sweep's rows in one column): the runs of one
  seed share its initialisation and batches, so every line is paired;
- `apart`: each cell's runs seeded apart (seed + 1000 x the cell's place in the table): no draw is shared, every
  line is Welch's;

and two noise models for the per-seed values: `independent` (each cell's seeds on their own) and `shared per seed`
(a part of the spread, correlation 0.8, that a seed gives every cell of the table alike). Each line's design is the
ledger's `Line.design` on those configs; its paired and Welch 95% intervals (comparable claims included) are
repro/claims/stats.py's, computed for every draw at once in numpy and held to the ledger's own `Line.paired` and
`Line.welch` on the first draws of each case (a mismatch stops the benchmark). Beside them, the rule the ledger had
before: per table and draw, whichever design's intervals are narrower summed over its lines, on the very values they
judge ("by width"), with how often it picked paired and how often the intervals it picked held the truth.

    python -m benchmarks.ledger_coverage                      # 2000 draws per case
    python -m benchmarks.ledger_coverage --draws 500 --seeds 3

Prints one table per noise model (by seeds) and one per table of the paper (all seeds pooled); docs/tables.md
("The interval: design, floor, overlap") shows its output. Coverage is the share of lines whose interval holds the
truth, with its binomial standard error.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from scipy import stats
from tabulate import tabulate

from repro.claims.claim import Claim
from repro.claims.judgement import Line, LineCell
from repro.claims.load import load_claims
from repro.claims.pairing import shared_draws
from repro.claims.stats import PAIRED, WELCH, CellSample, Design

TABLES = (1, 2, 6, 8)
SEED_COUNTS = (3, 5, 10)
FLOOR = 0.01  # one CIFAR test image (10,000 of them), in points: no spread is taken below it
CORRELATION = 0.8  # of two cells' values at one seed, under the shared-per-seed noise
Config = Callable[[int, int], dict[str, Any]]  # (cell's place, seed) -> the run's recorded config, flattened
LAYOUTS: dict[str, Config] = {
    "shared": lambda place, seed: {"seed": seed, "data.name": "cifar100", "model.name": "resnet18"},
    "apart": lambda place, seed: {"seed": seed + 1000 * place, "data.name": "cifar100", "model.name": "resnet18"},
}
NOISES = {"independent": 0.0, "shared per seed": CORRELATION}
CHECKED = 3  # draws per case on which the numpy intervals are held to the ledger's own


@dataclass(frozen=True)
class Template:
    """One claim line in one of the paper's columns: its cells (indices into the table's cells, coefficients) and
    its true contrast."""

    claim: Claim
    anchor: str
    cells: tuple[tuple[int, int], ...]  # (index of the table's cell, coefficient)
    truth: float


@dataclass
class Table:
    """A table's cells (row, column) with their true means and spreads, and its claim lines."""

    number: int
    cells: list[tuple[str, str]]
    means: np.ndarray
    sds: np.ndarray
    templates: list[Template]


def paper_table(number: int) -> Table:
    """Every claim line of the table that the paper prints, over the cells they read (the paper's numbers)."""
    table = Table(number, [], np.empty(0), np.empty(0), [])
    means, sds = [], []
    for claim in load_claims(tables=[number]):
        if claim.measure or claim.kind.judge is None:
            continue
        for paper_line in claim.paper_lines:
            cells = []
            for coef, cell in paper_line.cells:
                key = (cell.row, cell.column)
                if key not in table.cells:
                    table.cells.append(key)
                    means.append(cell.mean)
                    sds.append(max(cell.std or 0.0, cell.std_floor))
                cells.append((table.cells.index(key), coef))
            truth = sum(coef * means[i] for i, coef in cells)
            table.templates.append(Template(claim, paper_line.anchor, tuple(cells), truth))
    table.means, table.sds = np.array(means), np.array(sds)
    return table


def draw_values(table: Table, shape: tuple[int, int], correlation: float, rng: np.random.Generator) -> np.ndarray:
    """(draws, cells, seeds) for `shape` = (draws, seeds): each cell's true mean plus its spread, a `correlation`
    part of it shared by every cell at a seed."""
    draws, seeds = shape
    own = rng.standard_normal((draws, len(table.cells), seeds))
    common = rng.standard_normal((draws, 1, seeds))
    noise = math.sqrt(correlation) * common + math.sqrt(1.0 - correlation) * own
    return table.means[None, :, None] + table.sds[None, :, None] * noise


def lines_of(table: Table, values: np.ndarray, layout: Config) -> list[Line]:
    """The ledger's lines of one draw (values: cells x seeds), each with the draws its cells' runs share, read from
    the layout's configs."""
    seeds = tuple(range(values.shape[1]))
    lines = []
    for template in table.templates:
        cells = tuple(
            LineCell(*table.cells[i], CellSample(coef, tuple(values[i].tolist()), seeds)) for i, coef in template.cells
        )
        shared = shared_draws([{s: layout(place, s) for s in seeds} for place, _ in template.cells])
        paper = template.claim.paper_difference(template.anchor)
        lines.append(
            Line(template.claim, template.anchor, cells, paper, template.claim.kind.judge, FLOOR, shared_draws=shared)
        )
    return lines


def intervals(template: Template, values: np.ndarray) -> dict[Design, tuple[np.ndarray, np.ndarray]]:
    """Each design's 95% interval over every draw at once: repro/claims/stats.py's paired_estimate and
    welch_estimate in numpy (`checked` holds them to the ledger's own on the first draws)."""
    index = [i for i, _ in template.cells]
    coefs = np.array([coef for _, coef in template.cells], dtype=float)
    cells = values[:, index, :]  # draws x cells x seeds
    n = cells.shape[2]
    contrasts = np.einsum("c,dcs->ds", coefs, cells)
    se = np.maximum(contrasts.std(axis=1, ddof=1), FLOOR) / math.sqrt(n)
    half = stats.t.ppf(0.975, n - 1) * se
    paired = contrasts.mean(axis=1)
    parts = (coefs * np.maximum(cells.std(axis=2, ddof=1), FLOOR)) ** 2 / n
    variance = parts.sum(axis=1)
    dof = variance**2 / (parts**2 / (n - 1)).sum(axis=1)
    welch_half = stats.t.ppf(0.975, dof) * np.sqrt(variance)
    welch = cells.mean(axis=2) @ coefs
    return {PAIRED: (paired - half, paired + half), WELCH: (welch - welch_half, welch + welch_half)}


def checked(table: Table, values: np.ndarray, found: list[dict], layout: Config) -> list[Design]:
    """The ledger's design of each line under `layout`, after holding the numpy intervals to its own (`Line.paired`,
    `Line.welch`) on the first draws: a mismatch stops the benchmark."""
    designs: list[Design] = []
    for draw in range(min(CHECKED, values.shape[0])):
        lines = lines_of(table, values[draw], layout)
        for line, own in zip(lines, found):
            for design, estimate in ((PAIRED, line.paired), (WELCH, line.welch)):
                expected = estimate.interval()
                if not np.allclose([own[design][0][draw], own[design][1][draw]], expected, rtol=1e-9, atol=1e-9):
                    raise SystemExit(f"Table {table.number}, {line.claim.name}: {design} interval differs: {expected}")
        designs = [line.design for line in lines]
    return designs


@dataclass
class Tally:
    """Lines counted and lines whose interval held the truth, by (rule, design)."""

    counts: dict[tuple[str, Design], list[int]]

    def add(self, rule: str, design: Design, n: int, held: int) -> None:
        found = self.counts.setdefault((rule, design), [0, 0])
        found[0] += n
        found[1] += held

    def text(self, rule: str, design: Design) -> str:
        n, held = self.counts.get((rule, design), [0, 0])
        if not n:
            return "-"
        share = held / n
        return f"{100 * share:.1f}% ± {100 * math.sqrt(share * (1 - share) / n):.2f}"

    def picked(self) -> str:
        paired, welch = (self.counts.get(("width", d), [0, 0])[0] for d in (PAIRED, WELCH))
        return f"{100 * paired / max(paired + welch, 1):.0f}%"


def simulate(table: Table, seeds: int, correlation: float, draws: int, rng: np.random.Generator) -> Tally:
    """The ledger's rule on each layout's lines, and the width rule per draw over the table's lines."""
    tally = Tally({})
    values = draw_values(table, (draws, seeds), correlation, rng)
    found = [intervals(template, values) for template in table.templates]
    truths = [template.truth for template in table.templates]
    held = {
        design: np.array([(own[design][0] <= truth) & (truth <= own[design][1]) for own, truth in zip(found, truths)])
        for design in (PAIRED, WELCH)
    }  # design -> lines x draws
    for layout in LAYOUTS.values():
        for line, design in enumerate(checked(table, values, found, layout)):
            tally.add("rule", design, draws, int(held[design][line].sum()))
    width = {design: sum(own[design][1] - own[design][0] for own in found) for design in (PAIRED, WELCH)}
    paired = width[PAIRED] < width[WELCH]  # per draw: the narrower design over the table's lines
    lines = len(table.templates)
    tally.add("width", PAIRED, lines * int(paired.sum()), int(held[PAIRED][:, paired].sum()))
    tally.add("width", WELCH, lines * int((~paired).sum()), int(held[WELCH][:, ~paired].sum()))
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, default=2000, help="fabricated ledgers per table, noise and seed count")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEED_COUNTS))
    parser.add_argument("--rng", type=int, default=0, help="numpy's seed")
    args = parser.parse_args()
    rng = np.random.default_rng(args.rng)
    tables = [paper_table(n) for n in TABLES]
    started = time.perf_counter()
    results = {
        (noise, seeds, table.number): simulate(table, seeds, correlation, args.draws, rng)
        for noise, correlation in NOISES.items()
        for seeds in args.seeds
        for table in tables
    }
    headers = ["", "paired (rule)", "Welch (rule)", "by width: paired picked", "its paired", "its Welch"]
    for noise in NOISES:
        rows = []
        for seeds in [*args.seeds, "all"]:
            tally = merged([t for (n, s, _), t in results.items() if n == noise and seeds in (s, "all")])
            rows.append([f"{seeds} seeds" if seeds != "all" else "all", *columns(tally)])
        print(f"\n{noise} noise: 95% intervals holding the truth ({args.draws} draws per table and seed count)")
        print(tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True))
    for noise in NOISES:
        rows = []
        for table in tables:
            tally = merged([t for (n, _, number), t in results.items() if n == noise and number == table.number])
            rows.append([f"Table {table.number} ({len(table.templates)} lines)", *columns(tally)])
        print(f"\n{noise} noise, per table ({', '.join(map(str, args.seeds))} seeds pooled)")
        print(tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True))
    print(f"\n{time.perf_counter() - started:.1f} s")


def merged(tallies: list[Tally]) -> Tally:
    out = Tally({})
    for tally in tallies:
        for key, (n, held) in tally.counts.items():
            found = out.counts.setdefault(key, [0, 0])
            found[0] += n
            found[1] += held
    return out


def columns(tally: Tally) -> list[str]:
    return [
        tally.text("rule", PAIRED),
        tally.text("rule", WELCH),
        tally.picked(),
        tally.text("width", PAIRED),
        tally.text("width", WELCH),
    ]


if __name__ == "__main__":
    main()
