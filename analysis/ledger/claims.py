"""The paper's claims, declared once as data (paper_tables/claims.csv): each is a pair of rows of one table, the row
the paper finds better and the one it beats, in every column both rows have, or (Table 3) between two columns of a
row that differ by a setting (`Dynamic=yes` over `Dynamic=no`). The paper's numbers are never typed here: they are
read from paper_tables/paper/tableN.csv (analysis/tables/paper.py), so the claim's paper difference is always the
published one."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.tables.paper import paper_table
from repro.errors import UserError

CLAIMS_PATH = Path(__file__).resolve().parents[2] / "paper_tables" / "claims.csv"
COLUMNS = ["table", "better_row", "worse_row", "better_setting", "worse_setting", "claim"]


@dataclass(frozen=True)
class PaperPair:
    """The paper's two numbers of a claim in one of its columns."""

    better_column: str
    worse_column: str
    better: float
    worse: float

    @property
    def diff(self) -> float:
        return self.better - self.worse


@dataclass(frozen=True)
class PaperDifference:
    """The paper's difference shown beside ours: its own column's, or (a column the paper does not print, such as
    digits' or MNIST-1D's) the mean over the claim's paper columns, with their range."""

    value: float
    pairs: tuple[PaperPair, ...]
    same_column: bool

    def text(self) -> str:
        if self.same_column or len(self.pairs) == 1:
            where = "" if self.same_column else f" ({self.pairs[0].better_column})"
            return f"{self.value:+.2f}{where}"
        diffs = [p.diff for p in self.pairs]
        return f"{self.value:+.2f} (mean of its {len(diffs)} columns, {min(diffs):+.2f} to {max(diffs):+.2f})"

    @property
    def side(self) -> int:
        """+1 or -1: the sign the paper found (the claim's own direction where the difference is 0)."""
        return -1 if self.value < 0 else 1


@dataclass(frozen=True)
class Claim:
    table: int
    better_row: str
    worse_row: str
    better_setting: str  # the part of a column's name that tells the two sides apart (empty: the same column)
    worse_setting: str
    text: str  # what the paper claims, in words
    paper: tuple[PaperPair, ...]

    @property
    def name(self) -> str:
        if self.better_setting:
            return f"{self.better_row}: {self.better_setting} > {self.worse_setting}"
        return f"{self.better_row} > {self.worse_row}"

    def worse_column(self, better_column: str) -> str | None:
        """The column the better row's `better_column` is compared with (None: not a column of this claim)."""
        if not self.better_setting:
            return better_column
        if self.better_setting not in better_column:
            return None
        return better_column.replace(self.better_setting, self.worse_setting)

    def paper_difference(self, better_column: str, worse_column: str) -> PaperDifference:
        for pair in self.paper:
            if (pair.better_column, pair.worse_column) == (better_column, worse_column):
                return PaperDifference(pair.diff, (pair,), same_column=True)
        return PaperDifference(statistics.fmean(p.diff for p in self.paper), self.paper, same_column=False)


def load_claims(
    path: str | Path | None = None, paper_dir: str | Path | None = None, tables: list[int] | None = None
) -> list[Claim]:
    """The claims of `path` (default paper_tables/claims.csv), each with the paper's numbers; only those of
    `tables` when given."""
    path = Path(path or CLAIMS_PATH)
    if not path.is_file():
        raise UserError(
            f"The claims file {path} does not exist. The ledger's claims ship with the repository in "
            "paper_tables/claims.csv; run from a checkout of it, or pass --claims with a CSV of the columns "
            f"{', '.join(COLUMNS)}."
        )
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    if list(frame.columns) != COLUMNS:
        raise UserError(
            f"{path} has columns {list(frame.columns)}, expected {COLUMNS}: one claim a line, the table number, "
            "the row the paper finds better, the row it beats, the settings that tell two columns apart (or "
            "empty) and the claim in words. Fix its header."
        )
    claims, papers = [], {}
    for line, rec in enumerate(frame.to_dict("records"), start=2):
        if not rec["table"].isdigit():
            raise UserError(f"{path}, line {line}: table {rec['table']!r} is not a table number; write e.g. 1.")
        number = int(rec["table"])
        if tables is not None and number not in tables:
            continue
        if number not in papers:
            papers[number] = paper_table(number, paper_dir)
        claims.append(_claim(rec, number, papers[number], f"{path}, line {line}"))
    return claims


def _claim(rec: dict[str, str], number: int, paper: pd.DataFrame, where: str) -> Claim:
    better, worse = rec["better_row"], rec["worse_row"]
    printed = set(paper["row"])
    for row in (better, worse):
        if row not in printed:
            raise UserError(
                f"{where}: Table {number} of the paper has no row {row!r} (its rows: "
                f"{', '.join(dict.fromkeys(paper['row']))}). Write the row as paper_tables/paper/table{number}.csv "
                "names it."
            )
    if bool(rec["better_setting"]) != bool(rec["worse_setting"]) or (better == worse and not rec["better_setting"]):
        raise UserError(
            f"{where}: a claim compares two rows in the same column, or one row in two columns told apart by "
            "both better_setting and worse_setting (Table 3: Dynamic=yes, Dynamic=no); this line gives "
            f"{rec['better_setting']!r} and {rec['worse_setting']!r} for rows {better!r} and {worse!r}."
        )
    cells = {(r["row"], r["column"]): float(r["mean"]) for r in paper.to_dict("records") if r["mean"] == r["mean"]}
    claim = Claim(number, better, worse, rec["better_setting"], rec["worse_setting"], rec["claim"], ())
    pairs = []
    for (row, column), value in cells.items():
        other = claim.worse_column(column) if row == better else None
        if other is not None and (worse, other) in cells:
            pairs.append(PaperPair(column, other, value, cells[(worse, other)]))
    if not pairs:
        raise UserError(
            f"{where}: the paper prints no column with both {claim.name!r} sides in Table {number}, so the claim "
            "has no paper difference; check the rows and settings against paper_tables/paper/"
            f"table{number}.csv."
        )
    return Claim(number, better, worse, rec["better_setting"], rec["worse_setting"], rec["claim"], tuple(pairs))
