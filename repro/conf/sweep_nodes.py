"""The nodes `repro sweep` sets on a run (repro/conf/schema.py's `Run` holds them): `tune` (a tuned run's tuning
runs, repro/sweep/stages/tune/tuning.py), `halving` (a successive-halving rung's job,
repro/sweep/stages/tune/rung_job.py) and `sweep` (its W&B group). Each says here what of it enters the run id
(repro/schema/declare.py)."""

from __future__ import annotations

from typing import Any, Literal, Mapping

from repro.schema import option, schema
from repro.schema.rules import Scalar

__all__ = ["UNTUNED", "Halving", "HalvingOrNull", "Sweep", "Tune", "TuneRun", "tuned_keys"]


@schema
class TuneRun:
    """One finished tuning run a tuned run picks from."""

    run: str = option(why="the tuning run's id")
    values: list[Any] = option(why="its values of tune.keys, in order")


class HalvingOrNull:
    """The rule of `tune.halving`: null (the grid: the winner among every point), or a successive-halving stage's
    {eta, epochs, finalists} (repro/sweep/stages/tune/halving.py; finalists: left out by a race planned before it),
    which `repro sweep` writes."""

    def check(self, value: Any) -> str | None:
        if value is None:
            return None
        epochs = value.get("epochs") if isinstance(value, dict) else None
        ok = (
            isinstance(value, dict)
            and set(value) in ({"eta", "epochs"}, {"eta", "epochs", "finalists"})
            and _whole(value.get("finalists", 1), 1)
            and isinstance(value["eta"], int)
            and not isinstance(value["eta"], bool)
            and value["eta"] >= 2
            and isinstance(epochs, list)
            and bool(epochs)
            and all(isinstance(e, int) and not isinstance(e, bool) and e >= 1 for e in epochs)
            and epochs == sorted(set(epochs))
        )
        return None if ok else self.describe()

    def describe(self) -> str:
        return (
            "null, or {eta: a whole number >= 2, epochs: [increasing whole numbers >= 1], finalists: a whole number "
            ">= 1}"
        )


def _whole(value: Any, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


@schema
class Tune:
    """Set by a sweep's `tune:` stage (repro/sweep/stages/tune/tuning.py): the run picks its tuned keys' values from its
    finished tuning runs when it starts."""

    keys: list[str] = option(why="the tuned keys (method.* or optim.* keys)")
    runs: list[TuneRun] = option(why="the tuning runs and their values")
    select: Literal["final_val_acc", "best_val_acc"] = option(why="validation metrics only: never select on test")
    # Not in the run id: the id is the same before and after the run picks the winner.
    chosen: list[Any] | None = option(identity=False, why="filled in by the run: the winner's values")
    halving: Any = option(
        default=None,
        neutral=None,  # added after tuned runs existed: theirs chose among the whole grid
        rule=HalvingOrNull(),
        why="{eta, epochs, finalists}: chosen among a successive-halving stage's finalists (null: the whole grid)",
    )

    @staticmethod
    def identity_excludes(node: Any) -> list[str]:
        """The tuned keys' own values are not in the run id: the tuning runs (in it) choose them, so a tuned run's id
        is fixed before any tuning run has trained, and is the same before and after the run picks the winner."""
        return [str(key) for key in (node.get("keys") or [])]


# The `tune` node of a run that tunes nothing, as the run id sees it (`chosen` is never in it): `tune` was added after
# runs existed, so such a run's id has no `tune` (repro/sweep/stages/tune/tuning.py reads its `select` default here
# too).
UNTUNED: dict[str, Any] = {"keys": [], "runs": [], "select": "final_val_acc"}


def tuned_keys(config: Mapping[str, Any]) -> list[str]:
    """The keys a run's `tune` node tunes: empty for a run that tunes nothing (its node is absent, or `UNTUNED`)."""
    return list(((config.get("tune") or {}).get("keys")) or [])


@schema
class Halving:
    """Set on a tuning run by a sweep's `tune: {strategy: halving}` (repro/sweep/stages/tune/rung_job.py): the rung
    this job trains the run to, if the run is promoted to it. Never in the run id: every rung's job trains the same
    run."""

    rung: int | None = option(ge=0, default=None, why="train the run to epochs[rung] if promoted (null: not a rung)")
    epochs: list[int] = option(
        ge=1, default_factory=list, why="the rungs on the run's own schedule (the last: its own)"
    )
    eta: int = option(ge=2, default=3, why="the top 1/eta of a rung's points go on to the next")
    finalists: int = option(ge=1, default=1, why="the fewest points a rung promotes (the last: trained to the end)")
    select: Literal["final_val_acc", "best_val_acc"] = option(default="final_val_acc", why="validation only")
    runs: list[TuneRun] = option(default_factory=list, why="the cell's tuning runs: the rivals")


@schema
class Sweep:
    """Set by `repro sweep`: names the run's W&B group, never changes results."""

    name: Any = option(rule=Scalar())
    stage: Any = option(rule=Scalar())
    row: Any = option(rule=Scalar(), why="the sweep cell (row x column): the W&B group of its runs")
    column: Any = option(rule=Scalar())
