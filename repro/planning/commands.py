"""The `repro sweep` commands that train a plan's cells, and what their dry runs will price.

`--rows`/`--columns`/`--seeds` select a rectangle of a sweep file (a row's own `columns:` only where it has them,
the baseline gate's rows always), and each command's dry run prices every run its rectangle needs, a run that
another command also needs included (it trains once: the second command finds it done). So a table's cells are
cut into rectangles three ways (per seed count and set of rows; per seed count; one at the most seeds) and the cut
whose dry runs price least is printed. Where the plan was priced with K runs per GPU, each command carries
`--runs-per-gpu K`, so that its dry run prices (and its memory check takes) the runs packed as the plan did."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from repro.checkout import shown_path
from repro.planning.lines import Cell, PricedTable


@dataclass(frozen=True)
class SweepCommand:
    table: PricedTable
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    seeds: int  # the file's first `seeds` seeds
    gpu_model: str | None = None  # the calibration the plan was priced with, where one was named (--gpu)
    until_decided: bool = False  # from its `seeds` on, seeds added in rounds while a line is undecided

    def ordered(self) -> tuple[list[str], list[str]]:
        """Its rows and columns in the file's order (as printed)."""
        spec = self.table.spec
        return [r for r in spec.rows if r in self.rows], [c for c in spec.columns if c in self.columns]

    @property
    def text(self) -> str:
        spec, path = self.table.spec, self.table.path
        rows, columns = self.ordered()
        parts = ["repro", "sweep", shown_path(path), "--rows", *rows, "--columns", *columns]
        parts += ["--seeds", *map(str, spec.seeds[: self.seeds])]
        if self.until_decided:  # the plan counts on its rounds: priced at their chance of being needed
            parts.append("--until-decided")
        if self.table.runs_per_gpu > 1:  # trained and priced packed, as the plan priced it
            parts += ["--runs-per-gpu", str(self.table.runs_per_gpu)]
        if self.gpu_model:  # its dry run and its --max-gpu-hours priced as the plan was
            parts += ["--gpu-model", self.gpu_model]
        return shlex.join(parts)

    def cells(self) -> list[Cell]:
        """The planned cells its rectangle selects, the rows a stage keeps (the gate's) included."""
        rows = [*self.rows, *(r for r in self.table.kept if r not in self.rows)]
        return [(r, c) for r in rows for c in self.columns if self.table.has(r, c)]

    def hours(self) -> float:
        """GPU-hours its dry run prices: every run its cells need at its seeds (with seeds until decided, its
        selection planned as the dry run plans it)."""
        if self.until_decided and self.table.rounds is not None:
            return self.table.rounds.command_hours(*self.ordered())
        return sum(self.table.hours[r] for r in self.table.runs_of(self.cells(), self.seeds))

    def model_kinds(self) -> frozenset[tuple[str, str]]:
        """The (model, step kind) of every run its dry run plans: what its K runs per GPU must fit, as the sweep
        checks them (repro/sweep/dry_run.py, `check_packing`)."""
        if self.until_decided and self.table.rounds is not None:
            return self.table.rounds.command_kinds(*self.ordered())
        return frozenset(self.table.kinds[r] for r in self.table.runs_of(self.cells(), self.seeds))


def priced(commands: list[SweepCommand]) -> float:
    """What the commands' dry runs price together (a run two of them need, counted by each)."""
    return sum(c.hours() for c in commands)


def table_commands(table: PricedTable, seeds_of: dict[Cell, int], gpu_model: str | None = None) -> list[SweepCommand]:
    """The cheapest cut of the cells `seeds_of` (cell -> seeds it needs) into `repro sweep` rectangles (priced by
    `gpu_model`'s calibration where the plan named one)."""
    if not seeds_of:
        return []
    by_column: dict[tuple[int, str], set[str]] = {}
    for (row, column), n in seeds_of.items():
        by_column.setdefault((n, column), set()).add(row)
    grouped: dict[tuple[int, frozenset[str]], list[str]] = {}
    for (n, column), rows in by_column.items():
        grouped.setdefault((n, frozenset(rows)), []).append(column)
    per_rows = [SweepCommand(table, tuple(rows), tuple(cols), n, gpu_model) for (n, rows), cols in grouped.items()]
    per_seeds = [
        SweepCommand(
            table, tuple({r for (m, _), rs in by_column.items() if m == n for r in rs}), tuple(cols), n, gpu_model
        )
        for n, cols in _columns_by_seeds(by_column).items()
    ]
    whole = [
        SweepCommand(
            table,
            tuple(dict.fromkeys(r for r, _ in seeds_of)),
            tuple(dict.fromkeys(c for _, c in seeds_of)),
            max(seeds_of.values()),
            gpu_model,
        )
    ]
    return min((per_rows, per_seeds, whole), key=lambda cut: (priced(cut), len(cut)))


def _columns_by_seeds(by_column: dict[tuple[int, str], set[str]]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for n, column in by_column:
        out.setdefault(n, []).append(column)
    return out
