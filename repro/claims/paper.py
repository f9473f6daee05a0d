"""The paper's printed numbers as the claims read them: each cell of paper_tables/paper/tableN.csv (mean, std and the
precision it was printed with) and the numbers its text and figure captions state (paper_tables/paper/text.csv).
Plain `csv`, no pandas: `repro sweep FILE --dry-run` reads them too. analysis/tables/paper.py reads the same
tables into frames for the rendered tables.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

from repro.checkout import bundled
from repro.errors import UserError

PAPER_TABLES = bundled("paper_tables")
PAPER_DIR = PAPER_TABLES / "paper"
TEXT_FILE = "text.csv"  # in the paper directory: numbers the paper states outside its tables
TEXT_COLUMNS = ["table", "claim", "column", "mean", "display", "source"]
PAPER_SEEDS = 3  # Sec. 3.1: "For all experiments, we report the mean and standard deviation over 3 runs."
# The paper's own tables (Table 9 lists hyperparameters). A number from 10 on is a table of ours (sweeps/table10.yaml
# on): the paper prints none of it, though another paper may (paper_tables/paper/table14.csv, CIFAR-N's).
PAPER_TABLE_NUMBERS = range(1, 10)


@dataclass(frozen=True)
class PaperCell:
    """One printed cell: its mean, its std (None: printed without one) and the display text; `prior`, for a cell
    printed without a std, the std a plan takes for it instead (`prior_std`)."""

    row: str
    column: str
    mean: float
    std: float | None
    display: str
    prior: float | None = None

    @property
    def std_floor(self) -> float:
        """Half a unit of the std's last printed digit: "± 0.0" says the std is below 0.05, never that it is 0."""
        printed = self.display.split("±")[-1].strip() if "±" in self.display else ""
        decimals = len(printed.split(".")[1]) if "." in printed else 0
        return 0.5 * 10.0**-decimals


def paper_file(number: int, paper_dir: str | Path | None = None) -> Path:
    """Where Table `number`'s printed numbers are (paper_tables/paper/tableN.csv): a one-paragraph error if absent."""
    path = Path(paper_dir or PAPER_DIR) / f"table{int(number)}.csv"
    if not path.is_file():
        raise UserError(
            f"The paper's numbers for Table {number} are not at {path}. They ship with the package "
            f"(in {PAPER_DIR}); pass the directory that holds table1.csv ... table9.csv, or reinstall the package "
            "if that folder is gone."
        )
    return path


def paper_cells(number: int, paper_dir: str | Path | None = None) -> dict[tuple[str, str], PaperCell]:
    """Table `number`'s printed cells with a mean, by (row, column), in the paper's order."""
    path = paper_file(number, paper_dir)
    cells = {}
    for rec in _records(path):
        mean, std = _number(rec.get("mean", ""), path), _number(rec.get("std", ""), path)
        if mean is not None:
            cells[(rec["row"], rec["column"])] = PaperCell(rec["row"], rec["column"], mean, std, rec["display"])
    return {key: replace(cell, prior=prior_std(cell, cells.values())) for key, cell in cells.items()}


def prior_std(cell: PaperCell, table: Iterable[PaperCell]) -> float | None:
    """The std a plan takes for a cell the paper prints without one (None where it prints one): the largest std it
    prints in the cell's column (the same data set and noise, the other methods' runs), else in its table. The
    largest, so that a plan resting on it promises no more than the noisiest method of that setting allows."""
    if cell.std is not None:
        return None
    same = [c.std for c in table if c.std is not None and c.column == cell.column]
    found = same or [c.std for c in table if c.std is not None]
    return max(found) if found else None


def printed_cells(number: int, paper_dir: str | Path | None = None) -> dict[tuple[str, str], PaperCell] | None:
    """`paper_cells`, or None for a table of ours whose numbers no paper prints (its claims, Lukasik et al.'s on
    Tables 11-13, have no paper number); a paper table's missing file stays an error."""
    if number not in PAPER_TABLE_NUMBERS and not (Path(paper_dir or PAPER_DIR) / f"table{int(number)}.csv").is_file():
        return None
    return paper_cells(number, paper_dir)


@dataclass(frozen=True)
class TextNumber:
    """A number the paper states in its text or a figure's caption, for a claim of table `table` in `column`."""

    table: int
    claim: str
    column: str
    mean: float
    display: str
    source: str  # where the paper says it, quoted


def text_numbers(paper_dir: str | Path | None = None) -> list[TextNumber]:
    path = Path(paper_dir or PAPER_DIR) / TEXT_FILE
    if not path.is_file():
        return []
    numbers = []
    for line, rec in enumerate(_records(path, TEXT_COLUMNS), start=2):
        mean = _number(rec["mean"], path)
        if not rec["table"].isdigit() or mean is None:
            raise UserError(f"{path}, line {line}: needs a table number and a mean; it has {rec}.")
        numbers.append(TextNumber(int(rec["table"]), rec["claim"], rec["column"], mean, rec["display"], rec["source"]))
    return numbers


def _records(path: Path, columns: list[str] | None = None) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if columns is not None and reader.fieldnames != columns:
            raise UserError(f"{path} has columns {reader.fieldnames}, expected {columns}; fix its header.")
        return list(reader)


def _number(text: str, path: Path) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"{path} holds {text!r} where a number belongs; fix the file.") from None
    return value if math.isfinite(value) else None
