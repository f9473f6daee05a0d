"""The `tune:` stage of a sweep file: a grid over a row's method keys, chosen on validation before the row trains.

    rows:
      Ours (Instance):
        learn: [method=instance_labels]
        tune:
          grid: {method.label_lr: [25, 50, 100, 200], method.init_target_prob: [0.3, 0.5, 0.7, 0.9]}
          select: final_val_acc          # a validation metric (default); test metrics are refused
          where: [split=holdout, split.fold=0]   # default: fold 0's 20% held-out meta set is the validation set
          seeds: [0]                     # default: the file's first seed
          epochs: 50                     # optional: a shorter budget for the tuning runs only
          strategy: grid                 # optional: pins this stage's strategy, grid (every point trains to the
                                         # end) or halving; unpinned stages take `--tune-strategy` (default grid)
          eta: 3                         # halving: the top 1/eta of a rung's points go on to the next (default 3)
          min_epochs: 10                 # halving: the first rung trains at least this many epochs (default 1)
          min_fraction: 0.25             # halving: ... and at least this share of the run's epochs (default 0.25)
          finalists: 3                   # halving: at least this many points train to the end (default: eta)
          preflight: true                # optional: `repro sweep FILE` trains the grid's corners for a few epochs
                                         # first and says whether the labels move as the tuning needs (default false)

A grid value list may be written as a range, `{start: 0, stop: 10, step: 0.25}` (start, start + step, ..., stop).
`tune:` may sit on a row, on a column (Tables 4-5: the temperature-scaling columns) or at the top of the file (every
row; a row opts out with `tune: null`). The planner (repro/sweep/stages/tune/tuning_runs.py) turns it into tuning
runs, one per grid point and seed, that the cell's runs depend on; the runs pick the winner when they start
(repro/sweep/stages/tune/tuning.py). `strategy: halving` races the points by successive halving instead
(repro/sweep/stages/tune/halving.py, repro/sweep/stages/tune/halving_runs.py); `repro sweep --tune-strategy` sets the
strategy of every tuning stage of a sweep that pins none. A stage pins `strategy: grid` where halving's early ranking
is known to mislead (a temperature, a noisy table: the reason sits beside it in the sweep file). The first rung never
falls inside the runs' warm-up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, Mapping

from repro.errors import UserError
from repro.schema import SweepFile, build, check_node, option, schema
from repro.sweep.protocol.base import StageFlag
from repro.sweep.spec.model import Scale, SweepSpec
from repro.sweep.stages.teachers.teacher_ref import TeacherRef, read_teacher
from repro.sweep.stages.tune.halving import DEFAULT_ETA, DEFAULT_MIN_FRACTION
from repro.sweep.stages.tune.tuning import SELECT_METRICS

KEY = "tune"  # the stage's key in a sweep file (repro/sweep/stages/tune/stage.py)
STRATEGIES = ("grid", "halving")
# the stage's options of `repro sweep` (repro/sweep/protocol/base.py), read off the sweep's Scale by `scaled`
STRATEGY_FLAG = StageFlag(
    "--tune-strategy",
    "every tuning stage's strategy: grid (every grid point trains to the end, the paper's protocol) or "
    "halving (successive halving: points behind at a rung stop there); default: each stage's own `strategy:`",
    str,
    choices=STRATEGIES,
)
SEEDS_FLAG = StageFlag(
    "--tune-seeds",
    "every tuning stage tunes on its first N seeds only (`repro demo --quick`: 1); default: each stage's own",
    int,
    "N",
    typed=False,  # set by `repro demo --quick` on its Scale, not a `repro sweep` option
)
_UNSET = object()  # a row without a `tune:` key: its column's or the file's tuning applies (`tune: null` is None)
# `tune: {from: {sweep, row, column}}`: the cell takes another cell's tuning stage
# (repro/sweep/stages/tune_from/tune_from_runs.py)
DEFAULT_WHERE = ("split=holdout", "split.fold=0")
DEFAULT_SELECT = "final_val_acc"
MAX_POINTS = 1000  # a grid larger than this is almost surely a typo in a range
_HALVING = (
    "successive halving: eta, the top 1/eta of a rung go on, default 3; min_epochs, the first rung's least epochs, "
    "default 1; finalists, the fewest points that train to the end, default eta"
)


@dataclass(frozen=True)
class _Grid:
    """The rule of `tune.grid`: a mapping of config keys to their values (each key and list read by `read_tune`)."""

    def check(self, value: Any) -> str | None:
        return None if isinstance(value, Mapping) else self.describe()

    def describe(self) -> str:
        return "a mapping of method keys to their values, e.g. {method.label_lr: [25, 50], method.momentum: [0.9]}"


@schema
class TuneKey:
    """`tune:` as the file writes it (module docstring); `TuneSpec` is it read against the file. (`tune: {from:
    ...}`, another cell's stage, is read before: `from` is no field name.)"""

    grid: Any = option(rule=_Grid(), why="the method keys tuned, each with its values or a {start, stop, step} range")
    select: str = option(
        default=DEFAULT_SELECT,
        choices=SELECT_METRICS,
        hint="a test metric is not a validation metric: tuning picks on validation, never on test, which would report "
        "a test score chosen on the test set",
        why="the validation metric the winner is picked by",
    )
    where: list[str] = option(
        default_factory=lambda: list(DEFAULT_WHERE), why="overrides saying where the tuning runs train"
    )
    seeds: list[int] | None = option(
        default=None, ge=0, why="the distinct seeds whose tuning runs are averaged (left out: the file's first seed)"
    )
    epochs: int | None = option(default=None, ge=1, why="the tuning runs' budget (left out: the runs' own epochs)")
    strategy: Literal["grid", "halving"] | None = option(
        default=None,
        hint="use grid (every grid point trains to the end: the paper's protocol) or halving (successive halving: "
        "points behind at a rung stop there), or leave it out for the sweep's (`--tune-strategy`, default grid)",
        why="pins the stage's strategy (left out: the sweep's `--tune-strategy`)",
    )
    eta: int = option(default=DEFAULT_ETA, ge=2, hint=_HALVING, why="halving: the top 1/eta of a rung go on")
    min_epochs: int = option(default=1, ge=1, hint=_HALVING, why="halving: the first rung's least epochs")
    min_fraction: float = option(
        default=DEFAULT_MIN_FRACTION, ge=0, lt=1, why="halving: the first rung's least share of the runs' epochs"
    )
    finalists: int | None = option(
        default=None, ge=1, hint=_HALVING, why="halving: the fewest points that train to the end (left out: eta)"
    )
    preflight: bool = option(
        default=False,
        hint="true: train the grid's corners for a few epochs before the tuning runs and say whether the labels move "
        "as the tuning needs; false, the default: not",
        why="`repro sweep FILE` first trains the grid's corners for a few epochs and says whether the labels move",
    )


@dataclass(frozen=True)
class TuneSpec:
    grid: tuple[tuple[str, tuple[Any, ...]], ...]  # (key, values) in file order
    select: str = DEFAULT_SELECT
    where: tuple[str, ...] = DEFAULT_WHERE
    seeds: tuple[int, ...] = ()
    epochs: int | None = None
    source: TeacherRef | None = (
        None  # set: another cell's tuning runs decide (repro/sweep/stages/tune_from/tune_from_runs.py)
    )
    strategy: str | None = None  # pinned by the file: "grid" or "halving"; None: the sweep's (`--tune-strategy`)
    eta: int = DEFAULT_ETA  # halving: the top 1/eta of a rung go on
    min_epochs: int = 1  # halving: the first rung's least epochs
    min_fraction: float = DEFAULT_MIN_FRACTION  # halving: the first rung's least share of the run's epochs
    finalists: int | None = None  # halving: the fewest points that train to the end (None: eta)
    # `repro sweep FILE` runs the preflight on this stage before its tuning runs (repro/sweep/stages/tune/preflight.py):
    # a recipe the grid was not chosen for (another lr or length) should learn that its labels move before it spends
    preflight: bool = False

    @property
    def keys(self) -> list[str]:
        return [k for k, _ in self.grid]

    @property
    def halves(self) -> bool:
        """Whether the stage races its points by successive halving (unpinned and no `--tune-strategy`: the grid)."""
        return self.strategy == "halving"

    @property
    def least_finalists(self) -> int:
        return self.eta if self.finalists is None else self.finalists

    def points(self) -> list[tuple[Any, ...]]:
        """Every grid point in file order: the first key varies slowest (this order breaks ties: the first wins)."""
        out: list[tuple[Any, ...]] = [()]
        for _, values in self.grid:
            out = [p + (v,) for p in out for v in values]
        return out

    def describe(self) -> str:
        if self.source is not None:
            column = "the same column" if self.source.column is None else repr(self.source.column)
            return f"at {self.source.sweep.name}'s tuned point (row {self.source.row!r}, {column}: its tuning runs)"

        def shown(values: tuple[Any, ...]) -> str:
            text = [f"{v:g}" if isinstance(v, float) else str(v) for v in values]
            return ", ".join(text) if len(text) <= 8 else f"{text[0]}, {text[1]}, ..., {text[-1]} ({len(text)} values)"

        grid = " x ".join(f"{k.split('.')[-1]} {{{shown(vs)}}}" for k, vs in self.grid)
        return (
            f"{grid} on {' '.join(self.where) or 'the run split'} (seeds {list(self.seeds)}), by {self.select}"
            + (f", {self.epochs} epochs" if self.epochs else "")
            + (f", successive halving (eta {self.eta})" if self.halves else "")
        )


def read_tune(value: Any, path: Path, where: str, first_seed: int) -> TuneSpec | None:
    """The key at `where` checked through its declaration, then its grid and seeds; the grid's keys and values are
    checked against the config when the tuning runs are composed."""
    if value is None:
        return None
    if isinstance(value, Mapping) and "from" in value:
        if set(value) != {"from"}:
            raise UserError(
                f"{path}: {where}.from takes another cell's whole tuning stage; give it alone, e.g. "
                "{from: {sweep: table6.yaml, row: Ours (Instance labels)}} (without column: this cell's own)."
            )
        return TuneSpec(grid=(), source=read_teacher(value["from"], path, f"{where}.from"))
    check_node(TuneKey, value, where, source=SweepFile(path))
    key = build(TuneKey, value)
    example = "{grid: {method.label_lr: [25, 50], method.init_target_prob: [0.5, 0.9]}, select: final_val_acc}"
    if not key.grid:
        raise UserError(f"{path}: {where}.grid is empty; give at least one key with its values, e.g. {example}.")
    grid = []
    for name, values in key.grid.items():
        if not isinstance(name, str) or "=" in name or "." not in name:
            raise UserError(
                f"{path}: {where}.grid key {name!r} is not a config key; a grid ranges over the values of "
                "keys such as method.label_lr (config groups such as method= are not tuned)."
            )
        grid.append((name, _values(values, path, f"{where}.grid.{name}")))
    points = math.prod(len(v) for _, v in grid)
    if points > MAX_POINTS:
        raise UserError(f"{path}: {where}.grid has {points} points (more than {MAX_POINTS}); check its ranges.")
    seeds = (first_seed,) if key.seeds is None else key.seeds
    if not seeds or len(set(seeds)) != len(seeds):
        raise UserError(
            f"{path}: {where}.seeds={list(seeds)!r} must be a list of distinct seeds, e.g. [0] (the default: the "
            "file's first seed; several seeds are averaged)."
        )
    return TuneSpec(
        grid=tuple(grid),
        select=key.select,
        where=tuple(key.where),
        seeds=tuple(seeds),
        epochs=key.epochs,
        strategy=key.strategy,
        eta=key.eta,
        min_epochs=key.min_epochs,
        min_fraction=float(key.min_fraction),
        finalists=key.finalists,
        preflight=key.preflight,
    )


def _values(values: Any, path: Path, where: str) -> tuple[Any, ...]:
    if isinstance(values, Mapping):
        return tuple(grid_range(values, path, where))
    if not isinstance(values, list) or not values:
        raise UserError(
            f"{path}: {where} must be a non-empty list of values, e.g. [25, 50, 100], or a range "
            f"{{start: 0, stop: 10, step: 0.25}}; got {values!r}."
        )
    if not all(isinstance(v, (int, float, str, bool)) for v in values):
        raise UserError(f"{path}: {where} must list plain values (numbers, strings, true/false); got {values!r}.")
    if len(set(map(repr, values))) != len(values):
        raise UserError(f"{path}: {where} lists a value twice ({values!r}); each grid value once.")
    return tuple(values)


def grid_range(spec: Mapping[str, Any], path: Path | str, where: str) -> list[float]:
    """{start, stop, step} -> start, start + step, ..., up to stop (included when on the grid)."""
    try:
        start, stop, step = (float(spec[k]) for k in ("start", "stop", "step"))
        if set(spec) != {"start", "stop", "step"}:
            raise KeyError
    except (TypeError, KeyError, ValueError):
        start = stop = step = math.nan
    if not all(math.isfinite(v) for v in (start, stop, step)) or step <= 0 or stop < start:
        raise UserError(
            f"{path}: {where}={dict(spec)!r}: a range needs exactly the numbers start, stop >= start and "
            "step > 0, e.g. the paper's temperature grid {start: 0, stop: 10, step: 0.25} (41 values)."
        )
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    return [round(start + i * step, 6) for i in range(count)]


def cell_tune(spec: SweepSpec, row: str, column: str) -> TuneSpec | None:
    """The tuning stage of a cell: its row's (`tune: null` opts out), else its column's, else the file's."""
    own = spec.row_specs[row].settings.get(KEY, _UNSET)
    if own is not _UNSET:
        return own  # type: ignore[return-value]
    by_column = spec.column_settings.get(column, {}).get(KEY)
    return by_column if by_column is not None else spec.stage_settings.get(KEY)


def scaled(tune: TuneSpec | None, scale: Scale | None) -> TuneSpec | None:
    """A cell's tuning stage with the scale's strategy (`--tune-strategy`) and seeds (`repro demo --quick`), where
    the scale sets them: a stage that pins its strategy in the file keeps it."""
    if tune is None or scale is None:
        return tune
    strategy, seeds = scale.option(STRATEGY_FLAG.name), scale.option(SEEDS_FLAG.name)
    if strategy is not None:
        if strategy not in STRATEGIES:
            raise UserError(f"tune strategy {strategy!r}: use one of {', '.join(STRATEGIES)}.")
        if tune.strategy is None:
            tune = replace(tune, strategy=strategy)
    if seeds is not None:
        if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
            raise UserError(f"Scale: tune_seeds={seeds!r} must be a positive whole number (or None).")
        tune = replace(tune, seeds=tune.seeds[:seeds])
    return tune
