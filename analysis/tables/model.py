"""What a regenerated table holds: its cells (ours over the averaged runs, the paper's number, what is pending) and
the table around them. analysis.tables.build builds it from the runs; analysis.tables.render writes it."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

DDOF = 1  # the sample standard deviation of a cell over seeds (analysis/tables/render.py says so in the table)


@dataclass(frozen=True)
class PendingRun:
    """A planned reported run that is not averaged in: why, and where to look."""

    run_id: str
    row: str
    column: str
    seed: Any
    state: str
    message: str = ""


@dataclass
class Cell:
    row: str
    column: str
    planned: int = 0
    values: list[float] = field(default_factory=list)
    seeds: list[Any] = field(default_factory=list)  # the seed of each averaged value (the ledger pairs by seed)
    pending: list[PendingRun] = field(default_factory=list)
    data_sets: tuple[str, ...] = ()
    paper: dict[str, Any] | None = None
    cited: bool = False  # the paper cites this row from other work and the sweep does not run it
    commits: set = field(default_factory=set)  # of the averaged runs: a cell should average one code version
    precisions: set = field(default_factory=set)  # and one precision
    needs: str = ""  # the sweep lists the row but cannot run it yet (what it needs)
    why_not_run: str = ""  # a cited row the sweep says why it does not run (the sweep file's not_run)
    tuned: list[str] = field(
        default_factory=list
    )  # the values each averaged tuned run chose (repro/sweep/stages/tune/tuning.py)
    tuning: str = ""  # why the cell's runs cannot start: its tuning runs failed (empty otherwise)
    clean_labels: list[str] = field(default_factory=list)  # per averaged run: clean labels used beyond the noisy ones
    best_val: list[float] = field(default_factory=list)  # test accuracy at each averaged run's best-validation epoch
    tune_warnings: list[str] = field(
        default_factory=list
    )  # the grid may have missed (repro/sweep/stages/tune/tune_warnings.py)
    tune_rungs: list[str] = field(default_factory=list)  # successive halving's rungs, per race (tune_rungs_text)
    paper_selection: str = ""  # how the paper's number was selected over training (analysis/tables/paper_selection.py)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values) if self.values else math.nan

    @property
    def std(self) -> float:
        return statistics.stdev(self.values) if len(self.values) > DDOF else math.nan

    @property
    def paper_mean(self) -> float:
        return float(self.paper["mean"]) if self.paper is not None else math.nan

    @property
    def diff(self) -> float:
        return self.mean - self.paper_mean

    def ours_text(self) -> str:
        if self.cited:
            ref = (self.paper or {}).get("ref") or ""
            why = f": {self.why_not_run}" if self.why_not_run else ""
            return f"not run (cited from [{ref}]{why})" if ref else f"not run (not in the sweep{why})"
        if self.planned == 0:
            return f"not run yet (needs {self.needs})" if self.needs else "not in sweep"
        if not self.values:
            return f"no runs (0 of {self.planned} done" + (f"; {self.tuning})" if self.tuning else ")")
        counted = f"n={self.n}" if self.n == self.planned else f"n={self.n} of {self.planned}"
        if self.tuned:
            counted += f"; tuned: {self.tuned_text()}"
        if self.best_val:  # like with like: the paper's peers may have selected an epoch (paper_selection)
            counted += f"; at best val epoch: {_mean_std_text(self.best_val)}"
        return f"{_mean_std_text(self.values)} ({counted})"

    @property
    def best_val_mean(self) -> float:
        return statistics.fmean(self.best_val) if self.best_val else math.nan

    @property
    def best_val_std(self) -> float:
        return statistics.stdev(self.best_val) if len(self.best_val) > DDOF else math.nan

    def tuned_text(self) -> str:
        """The values the cell's runs chose on validation (once when every seed chose the same, as they do when
        they share the tuning runs; else one per seed, in seed order, separated by ' / ')."""
        distinct = list(dict.fromkeys(self.tuned))
        return distinct[0] if len(distinct) == 1 else " / ".join(self.tuned)

    def paper_text(self) -> str:
        return self.paper["display"] if self.paper is not None else "(not in paper)"

    def diff_text(self) -> str:
        return "" if math.isnan(self.diff) else f"{self.diff:+.2f}"


def _mean_std_text(values: list[float]) -> str:
    mean = statistics.fmean(values)
    return f"{mean:.2f}" if len(values) <= DDOF else f"{mean:.2f} ± {statistics.stdev(values):.2f}"


@dataclass
class TableResult:
    number: int
    metric: str
    percent: bool
    rows: list[str]
    columns: list[str]
    cells: dict[tuple[str, str], Cell]
    source: str
    groups: dict[str, str] = field(default_factory=dict)
    expansion: str = ""  # the scale / extra overrides the sweep was expanded with, if any
    title: str = ""  # the sweep file's title (shown for a table the paper does not have)
    heading: list[str] = field(default_factory=list)  # the stages' lines beside the header (each tuned row's grid)
    noisy: bool = False  # some planned run has label noise: the table shows each row's clean labels used
    notes: list[str] = field(default_factory=list)  # under the table: steps and samples, the sweep's notes, the gate

    def clean_labels_text(self, row: str) -> str:
        """What the row's averaged runs used in clean labels beyond their noisy ones (distinct values, ' / ')."""
        found = [
            t for column in self.columns for t in (self.cells.get((row, column)) or Cell(row, column)).clean_labels
        ]
        return " / ".join(dict.fromkeys(found))

    @property
    def pending(self) -> list[PendingRun]:
        return [p for cell in self.cells.values() for p in cell.pending]

    def selection_notes(self) -> list[str]:
        """One line per selection rule of the paper's numbers: the rows it applies to, and the rule."""
        rules: dict[str, list[str]] = {}
        for (row, _), cell in self.cells.items():
            if cell.paper_selection and row not in rules.setdefault(cell.paper_selection, []):
                rules[cell.paper_selection].append(row)
        return [f"{', '.join(rows)}: {rule}" for rule, rows in rules.items()]

    def halving_rungs(self) -> list[str]:
        return [f"{row} / {column}: {r}" for (row, column), cell in self.cells.items() for r in cell.tune_rungs]

    def tuning_warnings(self) -> list[str]:
        return [f"{row} / {column}: {w}" for (row, column), cell in self.cells.items() for w in cell.tune_warnings]

    @property
    def averaged(self) -> int:
        return sum(cell.n for cell in self.cells.values())

    def mixing_warnings(self) -> list[str]:
        """One line per cell that averages runs of different commits or precisions (allowed, but said)."""
        out = []
        for (row, column), cell in self.cells.items():
            for what, found in (("commits", cell.commits), ("precisions", cell.precisions)):
                if len(found) > 1:
                    out.append(
                        f"Table {self.number}, cell {row!r} / {column!r} averages runs of different {what}: "
                        f"{', '.join(sorted(found))}."
                    )
        return out

    @property
    def data_sets(self) -> list[str]:
        return sorted({d for cell in self.cells.values() for d in cell.data_sets})
