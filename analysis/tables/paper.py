"""The paper's published numbers (paper_tables/paper/table*.csv, described in that directory's README).

`display`, `ref` and `group` are read as strings: pandas' default inference would turn Table 9's `1e-3` into 0.001
and an all-empty `ref` column into NaN floats.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from repro.claims.paper import PAPER_DIR, PAPER_TABLE_NUMBERS, paper_file
from repro.errors import UserError

COLUMNS = ["table", "row", "column", "mean", "std", "display", "ref", "group"]
TEXT_COLUMNS = ("row", "column", "display", "ref", "group")


def paper_table(number: int, paper_dir: str | Path | None = None) -> pd.DataFrame:
    """One table's cells in the paper's order: numeric mean/std (NaN when printed as "-" or without std)."""
    path = paper_file(number, paper_dir)
    frame = pd.read_csv(path, dtype={c: str for c in TEXT_COLUMNS}, keep_default_na=False, encoding="utf-8")
    if list(frame.columns) != COLUMNS:
        raise UserError(
            f"{path} has columns {list(frame.columns)}, expected {COLUMNS} (see paper_tables/paper/README.md)."
        )
    for col in ("mean", "std"):
        frame[col] = pd.to_numeric(frame[col].replace("", None), errors="raise").astype(float)
    return frame


def paper_or_empty(number: int, paper_dir: str | Path | None = None) -> pd.DataFrame:
    """The paper's table, or no cells for a table of our own (numbers from 10 on: the paper has none)."""
    try:
        return paper_table(number, paper_dir)
    except UserError:
        if number in PAPER_TABLE_NUMBERS:
            raise
        return pd.DataFrame(columns=COLUMNS)


def available_tables(paper_dir: str | Path | None = None) -> list[int]:
    """The table numbers whose paper CSV exists."""
    root = Path(paper_dir or PAPER_DIR)
    numbers = []
    for path in root.glob("table*.csv"):
        suffix = path.stem[len("table") :]
        if suffix.isdigit():
            numbers.append(int(suffix))
    return sorted(numbers)
