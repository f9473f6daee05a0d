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
from pathlib import Path
from typing import Any, ClassVar

from repro.schema import build, check_node
from repro.sweep.spec.model import PlannedRun, SweepSpec

Plan = Any  # repro.sweep.plan.Plan (see above)


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

    key: ClassVar[str]  # its top-level key in a sweep file
    Spec: ClassVar[type | None] = None  # its key's declaration (repro.schema's @schema), or None: parse() reads it
    # the key is read by repro/sweep/spec/sweep_file.py itself (rows' and columns' keys too, into SweepSpec's fields)
    read_by_sweep_file: ClassVar[bool] = False

    def parse(self, value: Any, path: Path) -> Any:
        """Its key's value in the sweep file at `path`, read and checked (a UserError naming the key)."""
        if self.Spec is None:
            return value
        check_node(self.Spec, value, f"{path}: {self.key}")
        return build(self.Spec, value)

    def plan(self, spec: SweepSpec, setting: Any, runs: list[PlannedRun]) -> list[PlannedRun]:
        """The runs it adds to the expanded `runs` of `spec` (its parsed key: `setting`), each after the runs it
        depends on. Default: none."""
        return []

    def decide(self, plan: Plan) -> list[str]:
        """Act on the plan before anything is reported (the baseline gate marks the runs it holds); returns what it
        says of its decision, printed after the stage's `report`."""
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
