"""The sweep protocol (docs/architecture.md, "Stages"): what a stage provides, and the typed objects it is handed and
returns. The sweep calls the hooks on every registered stage (repro/sweep/protocol/registry.py), in registry order;
each has a default that does nothing, so a stage implements only what it takes part in. The hooks, each with its
contract (docs/architecture.md lists them from here: tests/project/test_stage_hooks_doc.py compares the two):

    read       its key of a sweep file, where it stands, read and checked (through its declaration `Spec`)
    plan_cell  what it adds to every run of a cell: runs first, overrides, dependencies, what it decides of each run
    plan_seed  how it plans one seed of a cell where it plans the cell's runs (the first stage that does plans them)
    selection  what its plan keeps of a selection of the sweep: rows beside those asked, the seeds the sweep ran
    decide     its decision on a plan: the runs it holds or settles, what it records, what it says, reports and prices
    notes      what it says of a table of the runs (`repro tables`): beside the header, under the cells
    prepare    what it does to a run when the run starts (its final config, an epoch limit, a run it takes instead)
    preflight  the short runs of its own it trains before the sweep, and what they say (the tuning stage's)

Two have one user, the tuning stage, and stay hooks: `prepare` is the one moment on the machine that trains a run
(every other hook runs where the sweep is planned), and `preflight` the one that trains before the sweep is
planned to train, with the sweep's executor. A stage's options of `repro sweep` are declared, not hooks
(`Stage.flags`: `StageFlag`, with the check of its value). What a stage reads of a cell and gives back for it
(`Cell`, `CellOverrides`, `SeedRuns`, `CellRuns`, `Override`) are value types of repro/sweep/protocol/cell.py.

Policy: a stage fills what it decided of a run into the run itself (`PlannedRun`: its label, the run it trains part
of, its cost share, whether it trains), so the spec, the plan, the budget and the executors read those fields and
import only this module and the registry; nothing outside repro/sweep/stages/ imports a stage's package
(tests/project/test_layers.py). Stages share code through the layers below (repro/sweep/expand/build.py's `make_run`,
repro/sweep/budget/), never through each other, except where one stage is built on another's (a borrowed tuning
stage, tune_from/, reads the teacher stage's reference).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping, Sequence

from repro.schema import SweepFile, build, check_node
from repro.sweep.plan import Decision, DryRun, Plan
from repro.sweep.protocol.cell import Cell, CellRuns, SeedRuns
from repro.sweep.spec.model import PlannedRun, Scale, SweepSpec

__all__ = [
    "Asked",
    "Cell",
    "CellRuns",
    "Decision",
    "DryRun",
    "FlagsGiven",
    "KeyAt",
    "Place",
    "Plan",
    "Prepared",
    "Preflight",
    "SeedRuns",
    "Selection",
    "Stage",
    "StageFlag",
    "TableNotes",
]


class Place(Enum):
    """Where a stage's key may stand in a sweep file: at the top level, in a row's mapping, in a column's."""

    FILE = "the top level"
    ROW = "a row"
    COLUMN = "a column"


@dataclass(frozen=True)
class KeyAt:
    """Where a stage's key was found in a sweep file (repro/sweep/sweep_file.py), and what of the file its
    reading may depend on: the file's seeds and column names, its row names, and the key's siblings in its row's or
    column's mapping (a key that excludes another on the same row)."""

    path: Path
    where: str  # the key as errors name it: "gate", "rows.<row>.tune", "columns.<column>.teacher"
    place: Place
    seeds: tuple[int, ...]
    columns: tuple[str, ...]
    rows: tuple[str, ...]
    siblings: Mapping[str, Any] = field(default_factory=dict)  # the row's or column's mapping (empty at the top)


@dataclass(frozen=True)
class Asked:
    """How the sweep asks the stages to decide (`Stage.decide`): `record`, for a sweep that trains or submits (not
    status or a dry run), records what is decided (the baseline gate: the recipe it judged, in gate.json);
    `options`, the options of this command's decisions that were given (`StageFlag.decides`: the user goes on past
    what holds, `--accept-gate`), name -> value, read with `option`; `dry_run`, its graphs and prices asked too."""

    record: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)
    # a dry run (`repro sweep --dry-run`, docs/costs.md): each stage adds its graphs and prices (`Decision.dry_run`),
    # at the calibration of `gpu_model` (None: this machine's GPU, else the one stored), which a decision that prices
    # runs prices at too (`--max-gpu-hours`)
    dry_run: bool = False
    gpu_model: str | None = None

    def option(self, name: str, default: Any = None) -> Any:
        """The value a decision option of `repro sweep` was given (`default` where it was not)."""
        return self.options.get(name, default)


@dataclass(frozen=True)
class FlagsGiven:
    """What a `StageFlag`'s check is handed: every stage option given on the command line (name -> value), and
    whether the command trains or submits (not `repro sweep status`, --dry-run or --preflight)."""

    options: Mapping[str, Any]
    trains: bool


@dataclass(frozen=True)
class StageFlag:
    """An option a stage adds to `repro sweep FILE` (`Stage.flags`): the command line is built from the registered
    stages, so a new stage's option touches no core module. Its value travels on the sweep's `Scale`
    (`scale.option(flag.name)`), into selection.json and every expansion; a decision's (`decides`) on `Asked`
    instead (`asked.option(flag.name)`), for the one command it was given to. `kind` None: a switch (given: True)."""

    flag: str  # as typed on the command line, dashes and all
    help: str
    kind: type | None = None
    metavar: str | None = None
    choices: tuple[str, ...] | None = None  # the values it takes (argparse refuses any other)
    # whether the value goes with the sweep into the other sweeps it expands a cell of (a student's teacher): False
    # for an option about the table it was given for (its further seeds), which the teacher's cell does not share
    referenced: bool = True
    # True: an option of what this command decides (the gate's `--accept-gate`), not of what is planned: it stays
    # off the Scale and out of selection.json, and the stages read it on `Asked`
    decides: bool = False
    # False: an option a command sets on the Scale itself (`repro demo --quick`'s one-seed tuning), never typed
    typed: bool = True
    # its refusal of its value beside the other options given (`FlagsGiven`), a UserError of one paragraph raised
    # before anything is planned (`--max-seeds` without `--until-decided`); None: any value its kind takes is fine
    check: Callable[[Any, FlagsGiven], None] | None = None

    @property
    def name(self) -> str:
        """The option's name on the `Scale`, on `Asked` and in argparse's namespace: the flag without dashes, `_`
        for `-`."""
        return self.flag.lstrip("-").replace("-", "_")


# Trains runs planned outside the table (in their own output root) with the sweep's executor, here or on SLURM,
# and waits for them: (runs, the name of their sweep folder, their output root, the ids already done).
TrainRuns = Callable[[Sequence[PlannedRun], str, Path, Sequence[str]], None]


@dataclass(frozen=True)
class Selection:
    """What a stage's plan keeps of a selection of the sweep (`Stage.selection`): rows a `--rows` selection keeps
    beside those asked for, and whether its plan follows the seeds the sweep ran (`--seeds`) rather than the file's."""

    rows: tuple[str, ...] = ()
    seeds_run: bool = False


@dataclass(frozen=True)
class TableNotes:
    """What a stage says of a table of its sweep's runs (`Stage.notes`; `repro tables` prints it, analysis/tables/):
    `heading`, lines beside the table's header, about how its cells' runs were chosen (the tuning stage's grids);
    `under`, lines under its cells (the baseline gate's verdict); `paper_cells`, what it knows of the paper's number
    in a cell, (row, column, words): the gate's `cited` cells, not of this table's recipe, which the ledger names
    wherever a paper difference is drawn from one."""

    heading: tuple[str, ...] = ()
    under: tuple[str, ...] = ()
    paper_cells: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class Preflight:
    """How the sweep asks for a stage's preflight (`Stage.preflight`): `declared`, only what the sweep file
    declares to run before the sweep trains (else `repro sweep FILE --preflight`); `epochs` per run; `train`, the
    sweep's executor; `report`, where its lines go; `gpu_model`, the calibration it prices with."""

    declared: bool
    train: TrainRuns
    report: Callable[[str], None]
    epochs: int = 2
    gpu_model: str | None = None


@dataclass(frozen=True)
class Prepared:
    """What the stages decided for a run that is to train: its final config, where it stops (an `EpochLimit` of
    repro/training/protocols.py), what its summary adds; or, with `skip`, why it trains nothing now; or, with
    `same_as`, the finished run whose records it takes instead of training (repro/runs/adopt.py)."""

    config: dict[str, Any]
    limit: Any = None
    summary_fields: dict[str, Any] = field(default_factory=dict)
    skip: str = ""
    same_as: str = ""  # the id of a finished run that is this very training: the run takes its records, trains nothing


class Stage:
    """One stage of the sweep protocol. Subclass it, set `key`, override the hooks it takes part in, and register
    it (repro/sweep/stages/__init__.py: `BUILT_IN`, or `register_stage` for a stage defined outside the package)."""

    key: ClassVar[str]  # its key in a sweep file
    Spec: ClassVar[type | None] = None  # its key's declaration (repro.schema's @schema), or None: `read` reads it
    places: ClassVar[frozenset[Place]] = frozenset({Place.FILE})  # where its key may stand (none: it has no key)
    flags: ClassVar[tuple[StageFlag, ...]] = ()  # its options of `repro sweep FILE` (Scale.option, Asked.option)

    def read(self, value: Any, at: KeyAt) -> Any:
        """Its key's value where it stands (`at`), read and checked: a UserError of one paragraph naming the key
        (`at.where`) and the file. Default: checked and built through `Spec` (the value as it is without one). The
        result is kept on the parsed file: `SweepSpec.stage_settings`, a column's `column_settings`, a row's
        `settings` (repro/sweep/spec/model.py), where the stage alone looks it up."""
        if self.Spec is None:
            return value
        check_node(self.Spec, value, at.where, source=SweepFile(at.path))
        return build(self.Spec, value)

    def plan_cell(self, cell: Cell) -> CellRuns | None:
        """What it adds to every run of `cell` (a tuned cell's tuning runs first, the `tune=...` override, the
        dependency on them). Default None: nothing."""
        return None

    def plan_seed(self, cell: Cell, seed: int) -> SeedRuns | None:
        """How it plans `seed` of `cell` where it plans the cell's runs (a student: its teacher's runs, then itself;
        learned labels: the fold runs, then the final replay run; out-of-sample: the run and its cross-validation
        folds). Default None: not its cell. The first stage (registry order) that plans a seed plans it; where none
        does, it is one plain run."""
        return None

    def selection(self, spec: SweepSpec, scale: Scale | None) -> Selection:
        """What its plan of `spec` at `scale` keeps of a selection of the sweep: the rows a selection of rows
        (`--rows`) keeps beside those asked for (the baseline gate's: it checks the recipe every row uses), and
        whether its plan depends on which of the file's seeds the sweep ran (`--seeds`: the until-decided stage's
        further seeds come after them), so that a table of the runs is expanded at those seeds, as the sweep
        planned it. Default: nothing kept, the file's seeds."""
        return Selection()

    def decide(self, plan: Plan, asked: Asked) -> Decision:
        """Its decision on the plan, before anything of it is reported or trained: the runs it holds (their status
        reads `held`, with why: `plan.hold`), the jobs it settles (a rung's job with nothing left to train reads
        done), what it records (`asked.record`), what the user accepts (`asked.option`); and what it says
        (`Decision`): its paragraphs, its report of the plan's state (`repro sweep status`, after a local sweep
        trains) and, with `asked.dry_run`, its graphs, prices and docs/costs.md figures. A local sweep trains the
        rest, decides again and trains what it let go, round after round while a stage releases runs
        (repro/sweep/run_local.py); on SLURM the next `repro sweep` submits them."""
        return Decision()

    def notes(self, plan: Plan) -> TableNotes:
        """What it says of a table of the plan's runs (`repro tables`), read from what it decided of the plan (asked
        after `decide`, by the results index, repro/sweep/index.py). Default: nothing."""
        return TableNotes()

    def prepare(self, prepared: Prepared) -> Prepared:
        """Act on a run when it starts, before anything is written: its config, epoch limit, summary fields."""
        return prepared

    def preflight(self, spec: SweepSpec, plan: Callable[[], Plan], how: Preflight) -> list[PlannedRun]:
        """Train its preflight runs (own runs, outside the table) and report what they say; `plan()` plans the sweep
        when first asked (a stage with nothing to check asks for none). Returns the runs it trained."""
        return []
