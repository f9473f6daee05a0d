"""A sweep row's `out_of_sample:` key: cross-validation fold runs whose held-out predictions give every training
sample of the row's run an out-of-sample probability (cleanlab; repro/labels/out_of_sample.py)::

    rows:
      One-hot (cleanlab):
        overrides: [method=baseline]
        out_of_sample: {folds: 5}                       # optionally `columns: [...]`: only those columns

The expansion plans, per (column, seed), the K fold runs (stage "fold"); nothing waits for them. Only a plain row
may have them (repro/sweep/spec/sweep_file.py refuses them on learned-labels rows and students).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from repro.errors import UserError


@dataclass(frozen=True)
class OutOfSample:
    """A row's `out_of_sample`: `folds` cross-validation fold runs per run of the row, in `columns` (None: all)."""

    folds: int
    columns: tuple[str, ...] | None = None

    def covers(self, column: str) -> bool:
        return self.columns is None or column in self.columns


def parse_out_of_sample(node: Any, path: Path, where: str, columns: list[str]) -> OutOfSample:
    """`where` names the key itself (rows.<row>.out_of_sample); `columns` are the sweep's, the only ones allowed."""
    ok = isinstance(node, Mapping) and "folds" in node and set(node) <= {"folds", "columns"}
    folds = node.get("folds") if ok else None
    only = node.get("columns") if ok else None
    if (
        not isinstance(folds, int)
        or isinstance(folds, bool)
        or folds < 2
        or (only is not None and (not isinstance(only, list) or not only or not set(only) <= set(columns)))
    ):
        raise UserError(
            f"{path}: {where} must give the number of cross-validation folds, at least 2, and may "
            f"restrict them to some of the columns ({', '.join(columns)}), e.g. out_of_sample: {{folds: 5}} "
            f"(cleanlab's default) or {{folds: 5, columns: [{columns[0]}]}}; got {node!r}."
        )
    return OutOfSample(folds, None if only is None else tuple(only))
