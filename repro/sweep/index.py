"""One sweep file's results index: its runs as the stages planned and decided them, joined to the runs' records.
Built once per sweep file and command (`index_sweep`), and read by `repro tables`, `repro figures` and `repro
ledger` (analysis/), which import nothing else of the sweep package and decide nothing a stage decided.

Takes a sweep (its spec, output root, scale and command-line overrides) and the runs' records (run id -> the run
frame's row: `state` and its summary's fields; analysis/collect.py or the W&B API); gives a `SweepIndex`: each
planned run with its record (`CellRun`), the cells' reported runs, what the stages decided (a run let go as not
needed, the run whose records a tuned run takes), and what each stage says of a table of the runs (`TableNotes`,
through the protocol's `notes`). A stand-in spec without a sweep file (the tests' and benchmarks' objects with their
own `expand`) has runs and records, and no stage's decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from repro.sweep.ask_stages import decide
from repro.sweep.expansion_cache import cached_expansion
from repro.sweep.plan import Plan, make_plan
from repro.sweep.protocol.base import TableNotes
from repro.sweep.protocol.registry import flags_given, stages
from repro.sweep.spec.model import PlannedRun, Scale, SweepSpec
from repro.sweep.sweep_folder import sweep_dir

DONE = "done"
# A cell's reported runs: a plain run ("single") or a learned row's replay ("final"); the fold runs of a learned row
# only learn its labels, tuning and teacher runs are the cell's inputs.
REPORTED_STAGES = ("single", "final")


@dataclass(frozen=True)
class CellRun:
    """A planned run of a cell and its record (None: not started)."""

    planned: PlannedRun
    run: dict[str, Any] | None

    @property
    def done(self) -> bool:
        return self.run is not None and self.run["state"] == DONE


def no_record_of_its_own(record: Mapping[str, Any]) -> bool:
    """Default of `index_sweep`'s `taken`: a run that took another's records has its own record in its directory."""
    return False


@dataclass
class SweepIndex:
    """A sweep's runs and what its stages decided of them (`plan`; None for a stand-in without a sweep file), with
    each run's record (`records`). `taken(record)`: whether a run whose records a tuned run takes (`plan.takes`) is
    to be reported for it from this record (the W&B API's: the tuned run logged nothing of its own)."""

    spec: Any
    output_root: Path
    runs: list[PlannedRun]
    records: Mapping[str, dict[str, Any]]
    plan: Plan | None
    scale: Scale | None = None
    extra_overrides: tuple[str, ...] = ()
    notes: TableNotes = field(default_factory=TableNotes)
    taken: Callable[[Mapping[str, Any]], bool] = no_record_of_its_own

    @cached_property
    def not_needed(self) -> dict[str, str]:
        """Run id -> why, for each planned run a stage let go as not needed (the until-decided stage's further seeds
        of a decided claim line): a table counts it neither done nor missing."""
        return self.plan.not_needed if self.plan is not None else {}

    @property
    def folder(self) -> Path | None:
        """Where `repro sweep` keeps this sweep's records (<output_root>/sweeps/<name>/); None for a stand-in."""
        name = getattr(self.spec, "name", None)
        return sweep_dir(self.output_root, name) if name else None

    @property
    def expansion(self) -> str:
        """The scale, the command-line overrides and the stages' options (`--tune-strategy halving`) the sweep was
        expanded with, as a table and the ledger say it (empty: none)."""
        parts = [*(self.scale.overrides() if self.scale is not None else []), *self.extra_overrides]
        return " ".join(parts + flags_given(self.scale))

    def record(self, planned: PlannedRun) -> dict[str, Any] | None:
        """The run's record; where it has none, that of the finished run whose records it takes (a tuned run that
        is its winning tuning run, as its stage decided), when `taken` says it is reported from there."""
        own = self.records.get(planned.run_id)
        if own is not None or self.plan is None:
            return own
        source = self.plan.takes.get(planned.run_id)
        found = self.records.get(source) if source else None
        if found is None or not self.taken(found):
            return None
        return {**found, "run_id": planned.run_id, "same_training_as": source}

    def cell_runs(
        self,
        *,
        rows: Sequence[str] = (),
        columns: Sequence[str] = (),
        stages: Sequence[str] = REPORTED_STAGES,
        fold: int | None = None,
    ) -> list[CellRun]:
        """The planned runs of the given rows and columns (empty: all) at these stages (and this fold), in plan
        order, each with its record."""
        return [
            CellRun(p, self.record(p))
            for p in self.runs
            if p.stage in stages
            and (not rows or p.row in rows)
            and (not columns or p.column in columns)
            and (fold is None or p.fold == fold)
        ]

    def reported(self) -> list[CellRun]:
        """Every cell's reported runs, in plan order, less those a stage let go as not needed."""
        return [c for c in self.cell_runs() if c.planned.run_id not in self.not_needed]


def index_sweep(
    spec: Any,
    *,
    output_root: str | Path,
    records: Mapping[str, dict[str, Any]],
    scale: Scale | None = None,
    extra_overrides: Sequence[str] = (),
    taken: Callable[[Mapping[str, Any]], bool] = no_record_of_its_own,
    runs: list[PlannedRun] | None = None,
) -> SweepIndex:
    """Expand the sweep once (composing and checking each run's config: what costs; `runs`: its runs, where the
    command planned them already), find each run's state, ask every registered stage to decide on the plan
    (recording nothing) and what it says of a table of it."""
    if runs is None:
        runs = expanded(spec, output_root=output_root, scale=scale, extra_overrides=extra_overrides)
    plan = None
    if isinstance(spec, SweepSpec) and runs:
        plan = make_plan(spec, runs, output_root)
        plan.scale = scale  # the stages' keys given on the command line (`--until-decided`) travel on it
        plan.records = records
        decide(plan)
    notes = _notes(plan) if plan is not None else TableNotes()
    return SweepIndex(
        spec, Path(output_root), runs, records, plan, scale, tuple(extra_overrides), notes=notes, taken=taken
    )


def expanded(
    spec: Any, *, output_root: str | Path, scale: Scale | None = None, extra_overrides: Sequence[str] = ()
) -> list[PlannedRun]:
    """Every run the sweep plans into `output_root`: a sweep file's as its folder keeps them where they were kept
    for this very expansion (repro/sweep/expansion_cache.py), else expanded. A `spec` may be any object with its own
    `expand(output_root=, scale=, extra_overrides=)` (the tests' and benchmarks' stand-ins), which is always asked."""
    extra = {"extra_overrides": list(extra_overrides)} if extra_overrides else {}
    expand = getattr(spec, "expand", None) or (lambda **kw: expand_anew(spec, **kw))
    if not isinstance(spec, SweepSpec):
        return expand(output_root=str(output_root), scale=scale, **extra)
    return cached_expansion(
        spec,
        lambda: expand(output_root=str(output_root), scale=scale, **extra),
        output_root=str(output_root),
        scale=scale,
        extra_overrides=list(extra_overrides),
    )


def expand_anew(spec: SweepSpec, **options: Any) -> list[PlannedRun]:
    """The sweep expanded anew (no kept entry would do)."""
    # Expanding composes and checks every run's config (Hydra, the config tree, the methods' options and the noise
    # models, with torch); a command that reads a kept expansion needs none of it.
    from repro.sweep.expand.expand import expand_sweep  # deferred: the expansion's modules, as said above

    return expand_sweep(spec, **options)


def _notes(plan: Plan) -> TableNotes:
    """Every registered stage's notes on a table of the plan, in registry order."""
    said = [stage.notes(plan) for stage in stages()]
    return TableNotes(
        heading=tuple(line for notes in said for line in notes.heading),
        under=tuple(line for notes in said for line in notes.under),
        paper_cells=tuple(cell for notes in said for cell in notes.paper_cells),
    )
