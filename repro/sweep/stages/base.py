"""What a stage of the sweep protocol provides (docs/architecture.md, "Stages"): the hooks the sweep calls on every
registered stage (repro/sweep/stages/registry.py), each with a default that does nothing, so a stage implements
only what it takes part in.

A stage owns one top-level key of a sweep file (`key`). The sweep reads it (`parse`, through its declaration `Spec`
and repro/schema/ where it has one), plans the runs it adds and their dependencies (`plan`), decides on the plan
(`decide`: the baseline gate holds runs, and says why), reports it (`report`: `repro sweep status`; `price`:
`repro sweep --dry-run`), and acts on a run when it starts (`prepare`: a tuned run's winner, a rung's epoch
limit), before the training loop, which knows no stage, trains it.

Why the plan is typed `Any` here: the stages sit with the sweep file's reading (layer sweep_spec), below the plan
(repro/sweep/plan.py), which they are handed; importing it, even for type checking, would point up the layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar, Mapping

from repro.schema import SweepFile, build, check_node
from repro.sweep.spec.model import PlannedRun, SweepSpec

Plan = Any  # repro.sweep.plan.Plan (see above)
Cell = Any  # repro.sweep.expand.expand.Cell: one (row, column) of the expansion, above this layer as the plan is


class Place(Enum):
    """Where a stage's key may stand in a sweep file: at the top level, in a row's mapping, in a column's."""

    FILE = "the top level"
    ROW = "a row"
    COLUMN = "a column"


@dataclass(frozen=True)
class KeyAt:
    """Where a stage's key was found in a sweep file (repro/sweep/spec/sweep_file.py), and what of the file its
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
    it (repro/sweep/stages/registry.py: `STAGES`, or `register_stage` for a stage defined outside the package)."""

    key: ClassVar[str]  # its key in a sweep file
    Spec: ClassVar[type | None] = None  # its key's declaration (repro.schema's @schema), or None: parse() reads it
    places: ClassVar[frozenset[Place]] = frozenset({Place.FILE})  # where its key may stand (none: it has no key)

    def parse(self, value: Any, path: Path) -> Any:
        """Its top-level key's value in the sweep file at `path`, read and checked (a UserError naming the key)."""
        if self.Spec is None:
            return value
        check_node(self.Spec, value, self.key, source=SweepFile(path))
        return build(self.Spec, value)

    def read(self, value: Any, at: KeyAt) -> Any:
        """Its key's value where it stands (`at`), read and checked: a UserError of one paragraph naming the key
        (`at.where`) and the file. Default: `parse` at the top level; elsewhere the `Spec` at `at.where`. The result
        is kept on the parsed file: `SweepSpec.stage_settings`, a column's `column_settings`, a row's `settings`
        (repro/sweep/spec/model.py)."""
        if at.place is Place.FILE:
            return self.parse(value, at.path)
        if self.Spec is None:
            return value
        check_node(self.Spec, value, at.where, source=SweepFile(at.path))
        return build(self.Spec, value)

    def plan(self, spec: SweepSpec, setting: Any, runs: list[PlannedRun]) -> list[PlannedRun]:
        """The runs it adds to the expanded `runs` of `spec` (its parsed key: `setting`), each after the runs it
        depends on. Default: none."""
        return []

    def plan_cell(self, cell: Cell) -> tuple[list[PlannedRun], list[Any], tuple[str, ...]] | None:
        """The runs `cell` plans before its seeds' runs (a tuned cell's tuning runs, after the runs they learn from),
        the overrides every run of the cell then takes (`tune=...`), and the ids of the runs each of them waits for.
        Default None: nothing of this stage's (the first stage, in registry order, that plans them plans them)."""
        return None

    def plan_seed(self, cell: Cell, seed: int, end: list[Any], depends_on: tuple[str, ...]) -> list[PlannedRun] | None:
        """The runs of `cell` for `seed`, where this stage plans the cell's runs (a student's: its teacher's runs,
        then itself; learned labels: the fold runs, then the final replay run; out-of-sample: the run and its
        cross-validation folds), each after the runs it depends on; `end`: the overrides every run of the seed
        ends with (`plan_cell`'s, the command line's, the scale, seed=, where it goes), `depends_on`: the runs each
        waits for (`plan_cell`'s). Default None: not its cell. The first stage (registry order) that plans a
        cell's seed plans it; where none does, it is one plain run (`cell.plain`)."""
        return None

    def seed_base(self, cell: Cell, seed: int) -> tuple[list[Any], tuple[str, ...], list[PlannedRun]] | None:
        """Where this stage plans the cell's runs: the cell's own overrides for `seed` as it trains (before the
        command line's), the runs they depend on, and the runs to plan first (a student: its teacher's; learned
        labels: the fold runs' own overrides); a tuned cell's tuning runs train from it. Default None: not its
        cell (the cell's `head`)."""
        return None

    def decide(self, plan: Plan) -> list[str]:
        """Act on the plan before anything is reported (the baseline gate marks the runs it holds); returns what it
        says of its decision, printed after the stage's `report`."""
        return []

    def decide_to_run(self, plan: Plan, *, accept: bool, record: bool) -> list[str]:
        """`decide` for a sweep that trains or submits (repro/sweep/run.py): with `record`, what it decided is
        recorded (the baseline gate: the recipe it judged, in gate.json); with `accept`, the user goes on past what
        it holds (`--accept-gate`). Default: `decide`."""
        return self.decide(plan)

    def kept_rows(self, spec: SweepSpec) -> tuple[str, ...]:
        """Rows a selection of rows (`--rows`) keeps beside the rows asked for (the baseline gate's: it checks the
        recipe every row uses). Default: none."""
        return ()

    def graph(self, plan: Plan) -> list[str]:
        """Its dependency graphs in `repro sweep --dry-run`, printed before the plan's GPU-hour estimate (the tuned
        cells', the students')."""
        return []

    def report(self, plan: Plan) -> list[str]:
        """Its paragraphs of `repro sweep status` (and of the report after a local sweep trains)."""
        return []

    def price(self, plan: Plan, gpu_model: str | None) -> list[str]:
        """Its paragraphs of `repro sweep --dry-run` (beside the plan's GPU-hour estimate)."""
        return []

    def prepare(self, prepared: Prepared) -> Prepared:
        """Act on a run when it starts, before anything is written: its config, epoch limit, summary fields."""
        return prepared
