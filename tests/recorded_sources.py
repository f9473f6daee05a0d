"""The recorded sources the README and docs quote their numbers from, read as the code that writes them lays them
out, so that a test compares a quoted number with its source rather than with a copy:

- docs/costs.md, made by `python -m repro.commands.costs_doc` from every sweep file's dry run: one table row per
  sweep file (runs, H100-hours, with halving, ...);
- a demo's summary as `repro demo` prints it (analysis/demo_summary.py, `print_summary`: a tabulate "simple" table
  of table, row, column and ours), recorded verbatim in a fenced block of its page: docs/demo.md for the digits demo,
  docs/mnist1d.md for `repro demo --mnist1d`.
"""

from __future__ import annotations

import re
from pathlib import Path

from repo_paths import REPO

COSTS = REPO / "docs" / "costs.md"
SUMMARY_TITLE = "== Demo summary (full) =="
SUMMARY_HEADER = ("table", "row", "column", "ours")
# what `print_summary` says of its data: "Final test accuracy (%) on digits, mean ± ..."
SUMMARY_DATA = re.compile(r"Final test accuracy \(%\) on ([^,]+),")
FENCE = re.compile(r"^```.*?$(.*?)^```", re.MULTILINE | re.DOTALL)


def costs_rows(page: Path = COSTS) -> dict[str, list[str]]:
    """docs/costs.md's rows: sweep file (`sweeps/table1.yaml`, `sweeps/demo/...`) -> its cells after the first (runs,
    H100-hours, with halving, ...)."""
    rows = {}
    for line in page.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0].startswith("`sweeps/"):
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def summary_cells(text: str) -> dict[tuple[int, str, str], str]:
    """The demo summary's table in `text` (as `print_summary` prints it): (table, row, column) -> the ours cell,
    e.g. (6, "Baseline", "Digits/40%") -> "73.53 ± 0.65 (n=3; at best val epoch: 90.41 ± 3.55)". The columns are
    where the line of dashes under the header puts them (tabulate's "simple" format)."""
    lines = text.splitlines()
    at = next((i for i, line in enumerate(lines) if tuple(line.split()) == SUMMARY_HEADER), None)
    if at is None or at + 1 >= len(lines):
        return {}
    spans = [m.span() for m in re.finditer(r"-+", lines[at + 1])]
    cells = {}
    for line in lines[at + 2 :]:
        if not line.strip():
            break
        table, row, column, ours = [line[a:b].strip() for a, b in spans[:-1]] + [line[spans[-1][0] :].strip()]
        cells[(int(table), row, column)] = ours
    return cells


def recorded_summary(page: Path, data: str) -> dict[tuple[int, str, str], str]:
    """The full demo's summary on `data` ("digits", "MNIST-1D") that `page` records in a fenced block; {} when the
    page records none."""
    for block in FENCE.findall(page.read_text(encoding="utf-8")):
        said = SUMMARY_DATA.search(block)
        if SUMMARY_TITLE in block and said and said.group(1) == data:
            return summary_cells(block)
    return {}


def mean_and_std(ours: str) -> str:
    """The figure a page quotes of a summary cell: its mean ± std, without the notes in brackets."""
    return ours.split(" (", 1)[0]
