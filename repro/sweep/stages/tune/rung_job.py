"""A successive-halving rung's job when it starts (repro/sweep/start.py; the race:
repro/sweep/stages/tune/halving.py).

A tuning run planned as one rung of the race has the node

    halving:
      rung: 1                     # this job trains the run to epochs[1], if the run is promoted to rung 1
      epochs: [3, 10, 30]         # the rungs, in epochs of the run's schedule (the last: its own epochs)
      eta: 3
      select: final_val_acc
      runs: [{run: <id>, values: [...]}, ...]   # the cell's tuning runs, grid order (as the tuned runs' tune.runs)

which never enters the run id (repro/runs/rundir.py): every rung's job trains the same run. Before anything is
written the job asks whether its run was promoted to its rung (`gate`); if it was, the training loop (repro/train.py,
which knows no stage) trains from the run's checkpoint to the rung's epoch on the run's full schedule and ends it
there with status `stopped` (`limit`: an `EpochLimit`), or, at the last rung, to its end as any run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from repro.errors import UserError
from repro.runs.rundir import run_id
from repro.sweep.stages.tune.halving import Ladder, climb


@dataclass(frozen=True)
class Gate:
    """What a rung's job does: train the run to `stop_at` (None: to its own epochs), or nothing (`promoted` False)."""

    promoted: bool
    stop_at: int | None
    why: str


def rung_of(config: Mapping[str, Any]) -> int | None:
    """The rung a tuning run's job trains to (None: an ordinary run)."""
    node = config.get("halving") or {}
    rung = node.get("rung")
    return None if rung is None else int(rung)


def gate(config: Mapping[str, Any]) -> Gate | None:
    """A rung's job, before anything is written: rung 0 trains every point; rung k > 0 trains the run only if its
    point was promoted at rung k - 1 (a UserError while that rung is not decided yet). None: not a rung's job."""
    rung = rung_of(config)
    if rung is None:
        return None
    node = config["halving"]
    epochs = [int(e) for e in node["epochs"]]
    stop_at = epochs[rung] if rung < len(epochs) - 1 else None
    if rung == 0:
        return Gate(True, stop_at, "")
    ladder = Ladder.of(node["runs"], select=node["select"], node=node)
    race = climb(ladder, Path(config["output_root"]) / "runs")
    own = run_id(config)
    point = next((i for i, ids in enumerate(ladder.runs) if own in ids), None)
    if point is None:
        raise UserError(
            f"Run {own} is rung {rung}'s job of a successive-halving tuning stage that does not list it in "
            "halving.runs. `repro sweep` writes this node; do not edit it by hand."
        )
    if len(race.rungs) < rung:
        raise UserError(
            f"Run {own} is to train to rung {rung} (epoch {epochs[rung]}) of its successive-halving tuning stage "
            f"if it is promoted, but that is not decided yet: {race.waiting}. Run the sweep that planned it "
            "(`repro sweep FILE`: each rung waits for the one before)."
        )
    decided = race.rungs[rung - 1]
    place = [p for p, _ in decided.ranked].index(point) + 1 if point in dict(decided.ranked) else None
    where = (
        f"ranked {place} of {len(decided.ranked)} at epoch {decided.epoch} ({ladder.select} "
        f"{dict(decided.ranked)[point]:.4f})"
        if place
        else f"left behind at rung {race.out_at(point)}"
    )
    if point not in decided.promoted:
        return Gate(False, None, f"not promoted to rung {rung}: {where}")
    return Gate(True, stop_at, f"promoted to rung {rung}: {where}")


@dataclass(frozen=True)
class RungLimit:
    """A rung's job as the training loop sees it: an epoch limit (repro/training/protocols.py's `EpochLimit`), the
    rung's epoch on the run's full schedule."""

    rung: int
    epochs: tuple[int, ...]  # the rungs, the last the run's own epochs

    def end_epoch(self, total: int) -> int:
        """The rung's epoch. Rungs planned for another number of epochs than the run has are refused (its config
        changed since the plan)."""
        if self.epochs[-1] != total:
            raise UserError(
                f"The rungs of this successive-halving tuning run ({list(self.epochs)}) were planned for "
                f"{self.epochs[-1]} epochs, but the run trains {total}: its config changed since the sweep was "
                "planned. Run `repro sweep` again."
            )
        return self.epochs[self.rung]

    def stopped(self, epoch: int, total: int) -> str:
        return (
            f"stopped at rung {self.rung} of successive halving (epoch {epoch} of {total}, on the full run's "
            "schedule); the next rung's job resumes it from this checkpoint if it is promoted"
        )


def limit(config: Mapping[str, Any]) -> RungLimit | None:
    """The epoch limit of a rung's job (None: an ordinary run, trained to its end)."""
    rung = rung_of(config)
    return None if rung is None else RungLimit(rung, tuple(int(e) for e in config["halving"]["epochs"]))
