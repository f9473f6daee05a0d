"""A sweep row's `out_of_sample:` key: cross-validation fold runs whose held-out predictions give every training
sample of the row's run an out-of-sample probability (cleanlab; repro/labels/out_of_sample.py)::

    rows:
      One-hot (cleanlab):
        overrides: [method=baseline]
        out_of_sample: {folds: 5}                       # optionally `columns: [...]`: only those columns

The expansion plans, per (column, seed), the K fold runs (stage "fold"); nothing waits for them. Only a plain row
may have them (the stage refuses them on learned-labels rows and students, repro/sweep/stages/out_of_sample/stage.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from repro.errors import UserError
from repro.schema import SweepFile, build, check_node, option, schema

KEY = "out_of_sample"  # the stage's key in a sweep file (repro/sweep/stages/out_of_sample/stage.py)


@schema
class OutOfSample:
    """A row's `out_of_sample`: `folds` cross-validation fold runs per run of the row, in `columns` (None: all)."""

    folds: int = option(ge=2, why="cross-validation fold runs per run of the row (cleanlab's default is 5)")
    columns: list[str] | None = option(
        default=None, why="only these columns' runs get fold runs (left out: every column's)"
    )

    def covers(self, column: str) -> bool:
        return self.columns is None or column in self.columns


def read_out_of_sample(node: Any, path: Path, where: str, columns: tuple[str, ...]) -> OutOfSample:
    """The key at `where` (rows.<row>.out_of_sample) checked through its declaration, then against the file:
    `columns` are the sweep's, the only ones it may name."""
    check_node(OutOfSample, node, where, source=SweepFile(path))
    only = node.get("columns")
    if only is not None and (not only or not set(only) <= set(columns)):
        raise UserError(
            f"{where}.columns={only!r} in the sweep file {path} must name some of the sweep's columns "
            f"({', '.join(columns)}), e.g. out_of_sample: {{folds: 5, columns: [{columns[0]}]}}, or be left out for "
            "every column. Fix the key there. Nothing was run or written."
        )
    return build(OutOfSample, node)
