"""A regenerated table (analysis.tables.model.TableResult) as Markdown and CSV: ours, the paper's number and the
difference side by side; a mostly empty grid (Tables 3-5 put a setting into the column key) as a list of cells."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from analysis.collect import FAILED_STATES
from analysis.tables.model import DDOF

if TYPE_CHECKING:
    from analysis.tables.model import TableResult


CSV_COLUMNS = [
    "table",
    "row",
    "column",
    "group",
    "metric",
    "ours_mean",
    "ours_std",
    "ours_n",
    "ours_planned",
    "ours",
    "paper_mean",
    "paper_std",
    "paper",
    "diff",
    "ref",
    "data",
    "not_averaged",
    "tuned",
    "clean_labels",
    "ours_best_val_mean",
    "ours_best_val_std",
    "paper_selection",
    "tune_warning",
]


def table_frame(result: TableResult) -> pd.DataFrame:
    """The tidy CSV form: one row per cell that the paper prints or the sweep plans."""
    records = []
    for row in result.rows:
        for column in result.columns:
            cell = result.cells.get((row, column))
            if cell is None:
                continue
            paper = cell.paper or {}
            records.append(
                {
                    "table": result.number,
                    "row": row,
                    "column": column,
                    "group": result.groups.get(row, ""),
                    "metric": result.metric,
                    "ours_mean": _round(cell.mean),
                    "ours_std": _round(cell.std),
                    "ours_n": cell.n,
                    "ours_planned": cell.planned,
                    "ours": cell.ours_text(),
                    "paper_mean": paper.get("mean", math.nan),
                    "paper_std": paper.get("std", math.nan),
                    "paper": cell.paper_text(),
                    "diff": _round(cell.diff),
                    "ref": paper.get("ref", ""),
                    "data": ";".join(cell.data_sets),
                    "not_averaged": len(cell.pending),
                    "tuned": cell.tuned_text() if cell.tuned else "",
                    "clean_labels": " / ".join(dict.fromkeys(cell.clean_labels)),
                    "ours_best_val_mean": _round(cell.best_val_mean),
                    "ours_best_val_std": _round(cell.best_val_std),
                    "paper_selection": cell.paper_selection,
                    "tune_warning": "; ".join(cell.tune_warnings),
                }
            )
    return pd.DataFrame.from_records(records, columns=CSV_COLUMNS)


def render_csv(result: TableResult) -> str:
    return table_frame(result).to_csv(index=False, lineterminator="\n")


def has_paper(result: TableResult) -> bool:
    """Whether the paper prints any cell of this table (our own tables, e.g. an ablation, have no paper column)."""
    return any(cell.paper is not None for cell in result.cells.values())


def render_markdown(result: TableResult) -> str:
    """Ours, the paper's and the difference side by side for every column (ours alone for a table the paper does
    not have); unfinished runs listed below."""
    kind = "test " if "test" in result.metric else "validation " if "val" in result.metric else ""
    unit = f"{kind}accuracy in percent" if result.percent else "value"
    paper = has_paper(result)
    title = (
        f"# Table {result.number}: ours vs the paper"
        if paper
        else f"# Table {result.number}: ours (not a paper table){': ' + result.title if result.title else ''}"
    )
    lines = [
        title,
        "",
        f"Ours: `{result.metric}` ({unit}) of the reported runs (stage single/final) that are done, mean ± sample std "
        f"(ddof={DDOF}) over seeds, n = runs averaged (of those planned)."
        + (
            f" Paper: the published number. Δ = ours − paper{' (percentage points)' if result.percent else ''}."
            if paper
            else ""
        ),
        f"Runs: {result.source or 'run frame'}. Data sets of our runs: {', '.join(result.data_sets) or 'none yet'}."
        + (f" Sweep expanded with {result.expansion}." if result.expansion else ""),
    ]
    if result.noisy:
        lines.append(
            "Clean labels: what each row's runs used in clean labels beyond their noisy training labels "
            "(meta set: learned on; validation only: scored, for the best epoch or a tuned value; transition "
            "matrix: counted into a known T; estimator's epoch: the estimating network picked on them; none: not one)."
        )
    lines += result.heading  # what the stages say of how the cells' runs were chosen (the tuning stage's grids)
    lines += [
        "",
    ]
    lines += _grid(result) if is_dense(result) else _cell_list(result)
    lines.append("")
    if result.notes:  # analysis/tables/notes.py
        lines += [*result.notes, ""]
    selection = result.selection_notes()
    if selection:
        lines += [
            "Selection of the paper's numbers (ours: the final epoch, and where runs have a validation set the "
            "test accuracy at the best-validation epoch; never selected on test): " + "; ".join(selection) + ".",
            "",
        ]
    raced = result.halving_rungs()
    if raced:
        lines += [
            "Tuned by successive halving (each rung: points ranked and promoted, its leader and the first point left "
            "out, on validation; the cell's tuned values are the winner among the last rung's):",
            "",
            *[f"- {r}" for r in raced],
            "",
        ]
    warned = result.tuning_warnings()
    if warned:
        lines += [
            "Tuning warnings (the grid may have missed; repro/sweep/stages/tune/tune_warnings.py):",
            "",
            *[f"- {w}" for w in warned],
            "",
        ]
    mixed = result.mixing_warnings()
    if mixed:
        lines += ["Note: " + " ".join(mixed), ""]
    pending = result.pending
    if pending:
        counts: dict[str, int] = {}
        for p in pending:
            counts[p.state] = counts.get(p.state, 0) + 1
        summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
        lines += [f"Not averaged ({len(pending)} planned run{'' if len(pending) == 1 else 's'}: {summary}):", ""]
        for p in sorted(pending, key=lambda p: (p.state not in FAILED_STATES, p.state, p.row, p.column, str(p.seed))):
            detail = f": {p.message}" if p.message else ""
            lines.append(f"- `{p.run_id}` ({p.row}, {p.column}, seed {p.seed}): {p.state}{detail}")
    elif result.averaged:
        lines.append(f"All {result.averaged} planned runs are done and averaged.")
    else:
        lines.append("The sweep plans no runs for this table yet (the rows say what they need).")
    return "\n".join(lines) + "\n"


DENSE = 0.75  # below this share of filled row x column cells, a grid is mostly empty: list the cells instead


def is_dense(result: TableResult) -> bool:
    """Tables 3-5 put a setting into the column key, so most of their row x column grid is empty."""
    return len(result.cells) >= DENSE * len(result.rows) * len(result.columns)


def _grid(result: TableResult) -> list[str]:
    """The paper's layout: a row per method, and per column ours | paper | Δ."""
    with_group, paper = bool(result.groups), has_paper(result)
    header = (["Group"] if with_group else []) + ["Method"]
    for column in result.columns:
        header += [f"{column} ours", "paper", "Δ"] if paper else [column]
    header += ["Clean labels"] if result.noisy else []
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in result.rows:
        cells = ([result.groups.get(row, "")] if with_group else []) + [row]
        for column in result.columns:
            cell = result.cells.get((row, column))
            shown = [cell.ours_text(), cell.paper_text(), cell.diff_text()] if cell else ["", "", ""]
            cells += shown if paper else shown[:1]
        cells += [result.clean_labels_text(row)] if result.noisy else []
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    return lines


def _cell_list(result: TableResult) -> list[str]:
    """One line per cell (row, column), in the paper's order, for tables whose grid is mostly empty."""
    paper = has_paper(result)
    lines = (
        ["| Method | Column | ours | paper | Δ |", "|---|---|---|---|---|"]
        if paper
        else ["| Method | Column | ours |", "|---|---|---|"]
    )
    if result.noisy:
        lines = [lines[0] + " Clean labels |", lines[1] + "---|"]
    for column in result.columns:
        for row in result.rows:
            cell = result.cells.get((row, column))
            if cell is not None:
                cells = [row, column, cell.ours_text()] + ([cell.paper_text(), cell.diff_text()] if paper else [])
                cells += [" / ".join(dict.fromkeys(cell.clean_labels))] if result.noisy else []
                lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    return lines


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _round(x: float) -> float:
    return round(x, 4) if not math.isnan(x) else math.nan
