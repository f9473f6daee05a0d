"""What a figure is, for `repro figures` (analysis/figures/make.py): the sweep cells each of its parts draws, how it
chooses its runs among them and how it draws them. Every figure has the same two steps, so that which runs a figure
drew is known before any drawing and can be printed and tested on its own:

- `choose(runs: FigureRuns) -> Chosen`: the run ids of each part (a panel, a line, a method) and whatever the
  drawing needs of them; raises Skip (no suitable runs) or SelectionError (an ambiguous or empty `--where`);
- `draw(chosen: Chosen, log) -> bytes`: the PNG (repro.figures.common.png_bytes); may still raise Skip (e.g. no
  noisy sample was corrected).

A part's runs are those of the sweep cells it declares (`Cells`: a table's sweep file, rows, the paper's columns,
the stage of the runs), found as a table finds its cells' runs (the sweep's results index, repro/sweep/index.py,
through analysis/sweeps.py): a run that no declared cell plans is never drawn, whatever it shares with one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pandas as pd

from analysis.cells import REPORTED_STAGES, CellRun
from analysis.sweeps import SweepIndexes

Log = Callable[[str], Any]


@dataclass(frozen=True)
class Cells:
    """The sweep cells a part of a figure draws: the rows of table `table`'s sweep file (none: every row), in the
    paper's `columns` (none, or none of them in the file, e.g. the digits demo's: every column; `repro figures
    --where` moves it), the runs of `stages` (a learned row's label-learning runs are "fold" runs) and `fold`."""

    table: int
    rows: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    stages: tuple[str, ...] = REPORTED_STAGES
    fold: int | None = None

    def rows_text(self) -> str:
        """ "Ours (Class) (fold 0 runs)": the rows and which of their runs."""
        runs = f"fold {self.fold} runs" if self.fold is not None else "/".join(self.stages) + " runs"
        return f"{' / '.join(self.rows) or 'every row'} ({runs})"

    def describe(self) -> str:
        return f"table {self.table}'s {self.rows_text()}"


@dataclass
class FigureRuns:
    """What a figure chooses from: the run frame (analysis/collect.py), the results indexes of the sweeps
    directory's files on it (analysis/sweeps.py), and the user's `--where` (config key -> value)."""

    frame: pd.DataFrame
    plans: SweepIndexes
    where: Mapping[str, str] = field(default_factory=dict)

    def cell_runs(self, cells: Cells, *, columns: tuple[str, ...] | None = None, **narrow: Any) -> list[CellRun]:
        """The planned runs of the cells' rows (in `columns`; None: the cells' own columns, or every column where
        the file has none of them), with their frame rows; `narrow` overrides `stages` / `fold`."""
        spec = self.plans.spec(cells.table)
        index = self.plans.index(cells.table)
        if spec is None or index is None:
            return []
        if columns is None:
            columns = tuple(c for c in cells.columns if c in spec.columns)
        return index.cell_runs(
            rows=cells.rows,
            columns=columns,
            stages=narrow.get("stages", cells.stages),
            fold=narrow.get("fold", cells.fold),
        )

    def done(self, cells: Cells) -> pd.DataFrame:
        """The frame rows of the cells' finished runs, each run once, in plan order."""
        ids = list(dict.fromkeys(c.planned.run_id for c in self.cell_runs(cells) if c.done))
        rows = self.frame.set_index("run_id", drop=False)
        return rows.loc[ids].reset_index(drop=True) if ids else self.frame.iloc[0:0]

    def missing_file(self, cells: Cells) -> str:
        """Why the cells have no runs when no sweep file is table `cells.table` (empty: there is one)."""
        if self.plans.spec(cells.table) is not None:
            return ""
        return f"no sweep file of table {cells.table} in {self.plans.where or 'the sweeps directory'}"


@dataclass
class Chosen:
    """The runs a figure draws, by part (part name -> run ids), and what its drawing needs of them."""

    runs: dict[str, list[str]]
    data: Any = None

    def run_ids(self) -> list[str]:
        """Every run the figure draws, each once, in part order."""
        return list(dict.fromkeys(rid for ids in self.runs.values() for rid in ids))


@dataclass(frozen=True)
class Figure:
    name: str
    cells: Mapping[str, Cells]  # part -> the sweep cells it draws
    choose: Callable[[FigureRuns], Chosen]
    draw: Callable[[Chosen, Log], bytes]
