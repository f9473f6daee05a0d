"""A claim of the paper, as data: which cells it contrasts, how it is judged, and the paper's own contrast in each
column the paper prints.

A claim is a contrast over cells: terms `+row [setting]` / `-row [setting]`. The first term's column is the line's
anchor; every other term's column is the anchor with the first term's setting replaced by its own (no settings: the
same column). So `+Ours (Instance); -Baseline` is a gain in every column both rows have, `+Class [Dynamic=yes];
-Class [Dynamic=no]` compares two columns of one row, and four terms are an interaction, a difference of
differences. `paper_terms` names the paper's rows where ours are a like-for-like stand-in the paper does not print
("Ours (setting A)" is judged against the paper's "Ours (Instance labels)").
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass
from typing import Collection

from repro.claims.decision import Spread
from repro.claims.paper import PAPER_SEEDS, PaperCell
from repro.claims.stats import Estimate, summary_estimate
from repro.claims.verdicts import DIRECTIONAL, EQUIVALENCE, Judge


@dataclass(frozen=True)
class Kind:
    """What a claim asserts, with the facts its declaration must carry."""

    name: str
    terms: int  # how many cells it contrasts
    judge: Judge | None  # None: the measure's (a recorded quantity is an effect or a level)
    says: str

    @property
    def needs_margin(self) -> bool:
        return self.judge is EQUIVALENCE

    @property
    def needs_measure(self) -> bool:
        return self.judge is None


GAIN = Kind("gain", 2, DIRECTIONAL, "the first row beats the second")
INTERACTION = Kind("interaction", 4, DIRECTIONAL, "a difference of differences: one gain beats another")
COMPARABLE = Kind("comparable", 2, EQUIVALENCE, "the two rows are level within a declared margin")
RECORDED = Kind("recorded", 1, None, "a quantity the runs record, against the paper's words or number")
KINDS = {kind.name: kind for kind in (GAIN, INTERACTION, COMPARABLE, RECORDED)}

NOT_PRINTED = "the paper prints no number in this column"
_TERM = re.compile(r"^([+-])\s*([^\[\]]+?)\s*(?:\[([^\[\]]*)\])?$")
_TOKENS = re.compile(r"[/\s]+")


@dataclass(frozen=True)
class Term:
    coef: int  # +1 or -1
    row: str
    setting: str = ""  # what this term's column holds where the anchor column holds the first term's setting

    def __str__(self) -> str:
        setting = f" [{self.setting}]" if self.setting else ""
        return f"{'+' if self.coef > 0 else '-'}{self.row}{setting}"


def parse_terms(text: str) -> tuple[Term, ...]:
    """`+Ours (Instance); -Baseline` -> terms; a ValueError says what is wrong."""
    terms = []
    for part in (p.strip() for p in text.split(";")):
        match = _TERM.match(part)
        if not match:
            raise ValueError(f"{part!r} is not a term: write +row or -row, optionally followed by [setting]")
        sign, row, setting = match.groups()
        terms.append(Term(1 if sign == "+" else -1, row, setting or ""))
    if terms and not terms[0].setting and any(t.setting for t in terms):
        raise ValueError("only the first term's setting can anchor the others: give the first term a [setting]")
    return tuple(terms)


def term_columns(terms: tuple[Term, ...], anchor: str) -> list[str]:
    """Each term's column on the line whose first term is in column `anchor`."""
    first = terms[0].setting
    return [anchor.replace(first, t.setting) if first else anchor for t in terms]


@dataclass(frozen=True)
class PaperLine:
    """The paper's contrast in one of its anchor columns: its cells (coefficient, printed cell)."""

    anchor: str
    cells: tuple[tuple[int, PaperCell], ...]

    @property
    def diff(self) -> float:
        return sum(c * cell.mean for c, cell in self.cells)

    @property
    def has_spread(self) -> bool:
        return all(cell.std is not None for _, cell in self.cells)


@dataclass(frozen=True)
class PaperDifference:
    """The paper's contrast shown beside one of our lines: one of its lines (our column is the paper's), the mean of
    those whose columns match ours best, or (nothing matches) its smallest, with how it was chosen."""

    lines: tuple[PaperLine, ...]
    how: str  # "" (the same column) or the words saying which of the paper's columns it is
    number: float | None = None  # a recorded quantity's number from the paper's text (no cells)
    printed: bool = True  # False: the claim's source prints no number we have (Claim.paper_prints): none shown

    @property
    def value(self) -> float | None:
        if self.number is not None:
            return self.number
        return statistics.fmean(line.diff for line in self.lines) if self.lines else None

    @property
    def side(self) -> int:
        """The sign the paper found (+1 where it prints none or 0: the claim is written better-first)."""
        return -1 if (self.value or 0.0) < 0 else 1

    def estimate(self) -> Estimate | None:
        """The paper's own interval from its printed means ± stds over its runs (Welch; a std printed as 0.0 is
        taken at half its last digit); None where a cell has no printed std."""
        if not self.lines or not all(line.has_spread for line in self.lines):
            return None
        k = len(self.lines)
        cells = [(c / k, cell) for line in self.lines for c, cell in line.cells]
        return summary_estimate(
            [c for c, _ in cells],
            [cell.mean for _, cell in cells],
            [float(cell.std or 0.0) for _, cell in cells],
            [PAPER_SEEDS] * len(cells),
            [cell.std_floor for _, cell in cells],
        )

    def spread(self, floor: float, prior: bool = False) -> Spread | None:
        """How our line's cells would scatter, from the paper's: each of our cells at the std the paper prints for
        it (the root mean square over the paper's lines where several stand for ours), at least half its last
        digit and `floor`; None where a cell has no printed std, unless `prior`, which takes the cell's prior
        there (paper.py, `prior_std`; None where that is missing too)."""
        if not self.lines:
            return None
        sds = []
        for term in range(len(self.lines[0].cells)):
            cells = [line.cells[term][1] for line in self.lines]
            found = [cell.std if cell.std is not None else (cell.prior if prior else None) for cell in cells]
            if any(sd is None for sd in found):
                return None
            digits = [cell.std_floor if cell.std is not None else 0.0 for cell in cells]  # a prior has no digits
            squares = [max(float(sd), least, floor) ** 2 for sd, least in zip(found, digits)]
            sds.append(math.sqrt(statistics.fmean(squares)))
        return Spread(tuple(float(c) for c, _ in self.lines[0].cells), cell_sds=tuple(sds))

    @property
    def uses_prior(self) -> bool:
        """Whether a cell of its lines has no printed std (its spread then rests on a prior)."""
        return any(cell.std is None for line in self.lines for _, cell in line.cells)

    def text(self, signed: bool = True) -> str:
        value = self.value
        if not self.printed:
            return ""
        if value is None:
            return f"({self.how})" if self.how else "(no number)"
        return (f"{value:+.2f}" if signed else f"{value:.2f}") + (f" ({self.how})" if self.how else "")


@dataclass(frozen=True)
class Claim:
    table: int
    name: str
    kind: Kind
    terms: tuple[Term, ...]
    paper_terms: tuple[Term, ...]  # the paper's rows (equal to `terms` unless ours are like-for-like stand-ins)
    where: tuple[str, ...]  # an anchor column must hold one of these (empty: any)
    margin: float | None  # comparable: the equivalence margin, in the metric's units
    margin_reason: str
    measure: str  # recorded: the measure's name (analysis/ledger/measures.py)
    says: str  # the claim in the paper's words
    paper_lines: tuple[PaperLine, ...] = ()
    paper_numbers: tuple[tuple[str, float, str], ...] = ()  # recorded: (column, number, where the paper says it)
    paper_columns: tuple[str, ...] = ()  # every column of the paper's table (where it prints nothing, no number)
    # False: a claim of a table of ours that no paper prints (Lukasik et al.'s, whose result tables could not be
    # reached: sweeps/lukasik.yaml): no paper number anywhere, so its lines are judged on their sign (a gain) or
    # their margin (comparable) alone, never against a number borrowed from another table
    paper_prints: bool = True

    @property
    def rows(self) -> list[str]:
        return list(dict.fromkeys(t.row for t in self.terms))

    @property
    def stand_in(self) -> bool:
        """Our rows are not the paper's: like-for-like rows judged against the paper's."""
        return [(t.coef, t.row) for t in self.terms] != [(t.coef, t.row) for t in self.paper_terms]

    def anchors(self, cells: Collection[tuple[str, str]]) -> list[str]:
        """Our anchor columns, in the order of `cells` ((row, column) the sweep plans): those where every term's
        cell is planned."""
        first = self.terms[0]
        found = []
        for row, column in cells:
            if row != first.row or first.setting not in column or not self.matches_where(column):
                continue
            wanted = zip((t.row for t in self.terms), term_columns(self.terms, column))
            if all(cell in cells for cell in wanted) and column not in found:
                found.append(column)
        return found

    def matches_where(self, column: str) -> bool:
        return not self.where or any(w in column for w in self.where)

    def paper_difference(self, anchor: str) -> PaperDifference:
        """The paper's contrast beside our line in column `anchor`."""
        if not self.paper_prints:
            return PaperDifference((), "", printed=False)
        if self.paper_numbers:
            return self._paper_number(anchor)
        same = [line for line in self.paper_lines if line.anchor == anchor]
        if same:
            return PaperDifference(tuple(same), "")
        if anchor in self.paper_columns:  # the paper's own column, where it prints no number for this claim
            return PaperDifference((), NOT_PRINTED)
        scores = {line.anchor: len(_tokens(anchor) & _tokens(line.anchor)) for line in self.paper_lines}
        best = max(scores.values(), default=0)
        if best > 0:
            lines = tuple(line for line in self.paper_lines if scores[line.anchor] == best)
            names = ", ".join(line.anchor for line in lines)
            return PaperDifference(lines, f"{names}" if len(lines) == 1 else f"mean of {names}")
        if not self.paper_lines:
            return PaperDifference((), "")
        least = min(self.paper_lines, key=lambda line: abs(line.diff))
        return PaperDifference((least,), f"no column like ours; its smallest, {least.anchor}")

    def _paper_number(self, anchor: str) -> PaperDifference:
        for column, number, _ in self.paper_numbers:
            if column == anchor:
                return PaperDifference((), "", number)
        if anchor in self.paper_columns:
            return PaperDifference((), NOT_PRINTED)
        scores = {column: len(_tokens(anchor) & _tokens(column)) for column, _, _ in self.paper_numbers}
        column, number, _ = max(self.paper_numbers, key=lambda item: (scores[item[0]], -abs(item[1])))
        how = column if scores[column] else f"no column like ours; the paper's {column}"
        return PaperDifference((), how, number)


def _tokens(column: str) -> set[str]:
    return {t for t in _TOKENS.split(column) if t}
