"""What a stage reads of a cell and gives back for it (repro/sweep/protocol/base.py's `plan_cell` and `plan_seed`):
value types, with the expansion's own workings (how it parses, composes and orders a run's overrides,
repro/sweep/expand/) behind them.

A stage reads of a cell its place (the sweep, its row and column, and its own settings there, looked up on the parsed
file), its overrides by where they come from (`CellOverrides`), its config's facts (`Cell.choice`) and its runs
(`Cell.base`, `plain`, `seed_runs`, another sweep's through `expand`); it gives back overrides and runs
(`SeedRuns`, `CellRuns`). An `Override` is one parsed override: the expansion parses them (expand/overrides.py's
`parse_override`), a stage passes them on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Hashable, Protocol, TypeVar

from repro.sweep.spec.model import PlannedRun, Scale, SweepSpec

Kept = TypeVar("Kept")


@dataclass(frozen=True)
class Override:
    """One parsed plain override: a group selection (`model=resnet18`) or a key assignment (`optim.lr=0.1`)."""

    text: str
    key: str
    value: Any
    is_group: bool


@dataclass(frozen=True)
class CellOverrides:
    """A cell's overrides, by where they come from; a run of the cell takes them in this order (later wins, as on
    `repro train`'s command line), a stage's own between `own` and `command_line`:

    own           the file's `common`, the column's and the row's `overrides`: what the cell trains (a plain run)
    learn, final  the column's and the row's `learn` and `final` (a learned-labels cell's fold and final runs)
    command_line  the command line's overrides, for every run of the sweep
    scale         the sweep's scale (optim.epochs, data.subset, data.test_subset); a run's seed=<seed> comes next
    where         where its runs go and how they are grouped (output_root, sweep.name, sweep.row, sweep.column: none
                  of them in a run id)
    """

    own: tuple[Override, ...]
    learn: tuple[Override, ...]
    final: tuple[Override, ...]
    command_line: tuple[Override, ...]
    scale: tuple[Override, ...]
    where: tuple[Override, ...]


class Cell(Protocol):
    """One (row, column) of a sweep's expansion, as a stage plans it (repro/sweep/expand/expand.py makes it).

    spec, row, column  the sweep and the cell (a stage's settings of it: on `spec`, where the stage looks them up)
    where              the cell as errors name it
    scale              the sweep's scale (its stage options: `scale.option(name)`)
    overrides          its overrides by where they come from (`CellOverrides`)
    """

    spec: SweepSpec
    row: str
    column: str
    where: str
    scale: Scale | None
    overrides: CellOverrides

    def choice(self, group: str) -> str:
        """The option the cell's own overrides select for a config group (`method`: the method it trains), its
        default where they select none."""
        ...

    def once(self, key: Hashable, make: Callable[[], Kept]) -> Kept:
        """What a stage computes once per cell while the cell is planned (a student's teacher runs of a seed): `make()`
        the first time `key` is asked, the same value after."""
        ...

    def base(self, seed: int) -> SeedRuns:
        """How the cell trains `seed`: the first stage's `plan_seed`, else its own overrides (its tuning runs train
        so)."""
        ...

    def plain(self, seed: int, end: list[Override], depends_on: tuple[str, ...]) -> PlannedRun:
        """The cell's one plain run of `seed` (stage "single")."""
        ...

    def seed_runs(self, seed: int) -> list[PlannedRun]:
        """The cell's runs of `seed` (a seed of the file's, or a further round's), as its stages plan a seed; asked
        in `CellRuns.then`, once every stage has said what the cell's runs take."""
        ...

    def expand(self, spec: SweepSpec) -> list[PlannedRun]:
        """Another sweep file's runs at this expansion's output root, scale and command-line overrides."""
        ...


# The seed's runs from the overrides every run of the seed ends with and the ids each waits for.
SeedRunMaker = Callable[[list[Override], tuple[str, ...]], list[PlannedRun]]


@dataclass(frozen=True)
class SeedRuns:
    """How a stage plans one seed of a cell (`Stage.plan_seed`): the cell's own overrides for the seed as it trains,
    before the command line's (a tuned cell's tuning runs train from them), the runs they depend on, the runs to
    plan first (a student's teacher runs), and `runs`, which makes the seed's runs (None: `first`, then one run of
    stage "single" from `overrides`)."""

    overrides: list[Override]
    depends_on: tuple[str, ...] = ()
    first: tuple[PlannedRun, ...] = ()
    runs: SeedRunMaker | None = None


@dataclass(frozen=True)
class CellRuns:
    """What a stage adds to every run of a cell (`Stage.plan_cell`): the runs planned before the cell's seeds' (a
    tuned cell's tuning runs), the overrides every run of the cell then takes (`tune=...`), the runs each waits for,
    and `then`, what it decides of the cell's runs once they are planned (a tuned run that is its winning tuning run
    trains nothing; runs it adds after them). Every registered stage's are taken, in registry order."""

    first: tuple[PlannedRun, ...] = ()
    overrides: tuple[Override, ...] = ()
    depends_on: tuple[str, ...] = ()
    then: Callable[[list[PlannedRun]], list[PlannedRun]] | None = None
