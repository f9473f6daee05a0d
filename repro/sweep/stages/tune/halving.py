"""Successive halving of a tuning stage, as its runs see it (a sweep's `tune: {strategy: halving}`; the planner is
repro/sweep/stages/tune/halving_runs.py).

Every grid point trains to the first rung on the full run's own schedule: its config, and so its lr schedule, is
the full run's, so a run stopped at rung k is exactly the first `epochs[k]` epochs of the full run, and it resumes
from its checkpoint to the next rung (nothing is trained twice). At each rung the points still in the race are
ranked on the validation metric they had at that epoch (mean over the tuning seeds; ties: the grid's first point)
and the top max(1, n // eta) go on; the points left at the last rung train to the full epochs, and the tuned runs
choose among them exactly as the grid strategy does (repro/sweep/stages/tune/tuning.py). Every decision is a
function of the runs' own metrics.jsonl alone (no extra evaluation), so whoever asks (a rung's job when it starts,
the tuned run, the sweep planner, `repro sweep status`) reaches the same ones.

A tuning run planned as one rung of the race carries a `halving` node (repro/sweep/stages/tune/rung_job.py: what the
job does with it) that never enters the run id (`Run.halving` is declared `identity=False` in repro/conf/schema.py):
every rung's job trains the same run. The tuned runs carry `tune.halving: {eta, epochs}`, which does enter theirs:
they choose among fewer finished runs than the grid's.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from repro.errors import UserError
from repro.runs.records import reading
from repro.runs.rundir import RunDir

DEFAULT_ETA = 3
# The first rung trains at least this share of the run's epochs (and never inside the warm-up): early rankings favour
# settings that make fast early progress, and noisy labels are fitted late (docs/budget.md, "Successive halving").
DEFAULT_MIN_FRACTION = 0.25
SEPARATOR = "@rung"


def unit_id(run_id: str, rung: int) -> str:
    """The sweep planner's name of the job that trains run `run_id` to rung `rung` (a rung before the last: the last
    rung's job keeps the run's id). It names a job, never a run directory."""
    return f"{run_id}{SEPARATOR}{rung}"


def run_of(job: str) -> str:
    """The run a planned job trains: its own id, or the run of a rung's job."""
    return job.split(SEPARATOR, 1)[0]


# ------------------------------------------------------------------------------------------------ the schedule


def promoted_count(competing: int, eta: int, finalists: int = 1) -> int:
    """How many of `competing` points go on to the next rung: the top 1/eta (Hyperband's rule), but never fewer than
    `finalists`, so that the final choice is made among that many full-length runs (the hedge of Hyperband's and
    ASHA's brackets)."""
    return min(competing, max(finalists, competing // eta, 1))


def first_rung_floor(total: int, *, min_epochs: int = 1, min_fraction: float = 0.0, warmup_epochs: int = 0) -> int:
    """The earliest epoch the first rung may rank at: `min_epochs`, `min_fraction` of the run's epochs, and past the
    warm-up (a rung inside it ranks runs that have not yet trained at their peak lr)."""
    return max(1, int(min_epochs), math.ceil(min_fraction * total - 1e-9), int(warmup_epochs) + 1)


def rung_epochs(
    total: int,
    eta: int,
    points: int,
    min_epochs: int = 1,
    *,
    min_fraction: float = 0.0,
    warmup_epochs: int = 0,
    finalists: int = 1,
) -> tuple[int, ...]:
    """The rungs of a cell, ending at the runs' own `total` epochs: total / eta^K, ..., total / eta, total (rounded
    half up), with K as many halvings as keep the first rung at or past `first_rung_floor` and still cut a point at
    each. Where no such power of eta falls between the floor and the end but there is something to cut, one rung at
    the floor itself. K = 0 (a single rung: the full grid) when there is nothing to halve."""
    floor = first_rung_floor(total, min_epochs=min_epochs, min_fraction=min_fraction, warmup_epochs=warmup_epochs)
    halvings, competing = 0, points
    while (
        promoted_count(competing, eta, finalists) < competing
        and math.floor(total / eta ** (halvings + 1) + 0.5) >= floor
    ):
        halvings += 1
        competing = promoted_count(competing, eta, finalists)
    epochs = [math.floor(total / eta**k + 0.5) for k in range(halvings, 0, -1)] + [total]
    if halvings == 0 and floor < total and promoted_count(points, eta, finalists) < points:
        epochs = [floor, total]
    return tuple(sorted(set(epochs)))


def survivor_counts(points: int, eta: int, rungs: int, finalists: int = 1) -> list[int]:
    """Points that train to each rung: all to the first, then the top 1/eta of the previous rung's (never fewer than
    `finalists`)."""
    counts = [points]
    for _ in range(rungs - 1):
        counts.append(promoted_count(counts[-1], eta, finalists))
    return counts


def rung_share(config: Mapping[str, Any]) -> float:
    """The expected share of its run's whole cost that a planned job trains: a rung's job trains the epochs from
    the previous rung to its own if its run is promoted to it (each point as likely as another: survivors / points);
    any other job, 1. What the sweep's estimate prices (repro/sweep/budget/costs.py)."""
    node = config.get("halving") or {}
    if node.get("rung") is None:
        return 1.0
    rung, epochs = int(node["rung"]), [int(e) for e in node["epochs"]]
    points = len({tuple(e["values"]) for e in node["runs"]})
    counts = survivor_counts(points, int(node["eta"]), len(epochs), int(node.get("finalists", 1)))
    return (epochs[rung] - (epochs[rung - 1] if rung else 0)) / epochs[-1] * counts[rung] / counts[0]


def describe(eta: int, epochs: Sequence[int], points: int, finalists: int = 1) -> str:
    """'halving (eta 3; rungs at epochs 10, 30; 16 -> 5 points)'."""
    counts = survivor_counts(points, eta, len(epochs), finalists)
    return f"halving (eta {eta}; rungs at epochs {', '.join(map(str, epochs))}; {' -> '.join(map(str, counts))} points)"


# --------------------------------------------------------------------------------------------------- the race


@dataclass(frozen=True)
class Ladder:
    """A cell's race: its grid points (grid order) with their tuning runs, the rungs and the metric."""

    eta: int
    epochs: tuple[int, ...]
    select: str
    points: tuple[tuple[Any, ...], ...]
    runs: tuple[tuple[str, ...], ...]  # per point, its tuning runs (one per tuning seed)
    finalists: int = 1  # the fewest points promoted at a rung (a race planned before this rule: 1)

    @classmethod
    def of(cls, entries: Sequence[Mapping[str, Any]], *, select: str, node: Mapping[str, Any]) -> Ladder:
        """From a `runs` list ([{run, values}], one per grid point and tuning seed, grid order) and the race's node
        ({eta, epochs, finalists}: a rung job's `halving`, a tuned run's `tune.halving`)."""
        grouped: dict[tuple[Any, ...], list[str]] = {}
        for entry in entries:
            grouped.setdefault(tuple(entry["values"]), []).append(str(entry["run"]))
        return cls(
            int(node["eta"]),
            tuple(int(e) for e in node["epochs"]),
            str(select),
            tuple(grouped),
            tuple(map(tuple, grouped.values())),
            int(node.get("finalists", 1)),
        )


@dataclass(frozen=True)
class Rung:
    """One decided rung: who competed, ranked best first, with their scores, and who goes on."""

    epoch: int
    ranked: tuple[tuple[int, float], ...]  # (point index, mean score at `epoch`)
    promoted: tuple[int, ...]  # point indices, grid order


@dataclass
class Climb:
    """The decided rungs of a race, from the first, and why the next one is not decided yet ('' when none is left
    to decide)."""

    ladder: Ladder
    rungs: list[Rung] = field(default_factory=list)
    waiting: str = ""

    @property
    def decided(self) -> bool:
        return len(self.rungs) == len(self.ladder.epochs) - 1

    def racing(self, rung: int) -> tuple[int, ...] | None:
        """The points that train to rung `rung` (None: not decided yet)."""
        if rung == 0:
            return tuple(range(len(self.ladder.points)))
        return self.rungs[rung - 1].promoted if rung <= len(self.rungs) else None

    def out_at(self, point: int) -> int | None:
        """The rung at which the point was left behind (None: still racing, or not decided yet)."""
        for k, rung in enumerate(self.rungs):
            if point in dict(rung.ranked) and point not in rung.promoted:
                return k
        return None


def mean_score(scores: Sequence[float]) -> float:
    """The mean of a grid point's validation scores over its seeds, rounded to 12 decimals, so that points whose
    seeds hit the same total compare equal and the tie goes to the grid's first point as documented: validation
    accuracies are counts over a set, and float addition makes e.g. the mean of 57/60 and 59/60 (0.9666...66) fall
    below that of 58/60 and 58/60 (0.9666...67), a difference of one rounding that picked the later point."""
    return round(statistics.fmean(scores), 12)


def score_at(rows: Sequence[Mapping[str, Any]], epoch: int, select: str) -> float | None:
    """The `select` metric the run had at `epoch`, as its summary would say had it ended there (final_val_acc: that
    epoch's validation accuracy; best_val_acc: the best up to it). None until the run has trained that epoch."""
    upto = {int(r["epoch"]): r.get("val_acc") for r in rows if isinstance(r.get("epoch"), int) and r["epoch"] <= epoch}
    values = [upto.get(e) for e in range(1, epoch + 1)]
    if any(not isinstance(v, (int, float)) or isinstance(v, bool) for v in values):
        return None
    return float(max(values)) if select == "best_val_acc" else float(values[-1])


def climb(ladder: Ladder, runs_root: Path) -> Climb:
    """Decide every rung the runs' metrics allow, in order."""
    result = Climb(ladder)
    rows: dict[str, list[dict]] = {}

    def metrics(rid: str) -> list[dict]:
        if rid not in rows:
            rd = RunDir(runs_root / rid)
            with reading(rd, rd.metrics_file, role="tuning run"):
                rows[rid] = rd.read_metrics()
        return rows[rid]

    racing = result.racing(0) or ()
    for k, epoch in enumerate(ladder.epochs[:-1]):
        scores, missing = {}, []
        for point in racing:
            got = [score_at(metrics(rid), epoch, ladder.select) for rid in ladder.runs[point]]
            if any(g is None for g in got):
                missing += [rid for rid, g in zip(ladder.runs[point], got) if g is None]
                continue
            scores[point] = mean_score(got)  # type: ignore[arg-type]
        if missing:
            result.waiting = (
                f"rung {k} (epoch {epoch}) waits for {len(missing)} tuning run(s) to reach epoch {epoch}: "
                + ", ".join(missing[:3])
                + (" ..." if len(missing) > 3 else "")
            )
            return result
        ranked = sorted(racing, key=lambda p: (-scores[p], p))  # ties: the grid's first point
        promoted = tuple(sorted(ranked[: promoted_count(len(racing), ladder.eta, ladder.finalists)]))
        result.rungs.append(Rung(epoch, tuple((p, scores[p]) for p in ranked), promoted))
        racing = promoted
    return result


# ------------------------------------------------------------------------------------------- the tuned runs


def finalists(config: Mapping[str, Any]) -> set[tuple[Any, ...]]:
    """The grid points a tuned run chooses among: those that trained to the last rung (a UserError while a rung is
    not decided yet)."""
    tune = config["tune"]
    node = tune["halving"]
    ladder = Ladder.of(tune.get("runs") or [], select=tune["select"], node=node)
    race = climb(ladder, Path(config["output_root"]) / "runs")
    if not race.decided:
        raise UserError(
            f"This run takes {', '.join(tune['keys'])} from a successive-halving tuning stage that is not "
            f"finished: {race.waiting}. Run the sweep that planned it (`repro sweep FILE`: each rung waits for the "
            "one before, failed runs are trained again)."
        )
    final = race.racing(len(ladder.epochs) - 1) or ()
    return {ladder.points[p] for p in final}


def rungs_record(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A tuned run's summary record of its race: per decided rung, its epoch, the points ranked with their scores
    and the points promoted ([] for the grid strategy)."""
    tune = config.get("tune") or {}
    node = tune.get("halving")
    if not node:
        return []
    ladder = Ladder.of(tune.get("runs") or [], select=tune["select"], node=node)
    race = climb(ladder, Path(config["output_root"]) / "runs")
    return [
        {
            "epoch": rung.epoch,
            "ranked": [[list(ladder.points[p]), score] for p, score in rung.ranked],
            "promoted": [list(ladder.points[p]) for p in rung.promoted],
        }
        for rung in race.rungs
    ]


def rungs_text(config: Mapping[str, Any], name: Any) -> str:
    """Each decided rung in one line for a table note or `repro sweep status`: its epoch, how many points it ranked
    and promoted, its leader and the first point it left out (`name` writes a point), so that a winner that led from
    the first rung and one that came from behind read differently. Empty for the grid strategy."""
    parts = []
    for rung in rungs_record(config):
        ranked = rung["ranked"]
        kept = len(rung["promoted"])
        text = (
            f"epoch {rung['epoch']}: {len(ranked)} ranked, {kept} on; led by {name(ranked[0][0])} ({ranked[0][1]:.4g})"
        )
        if kept < len(ranked):
            text += f", first out {name(ranked[kept][0])} ({ranked[kept][1]:.4g})"
        parts.append(text)
    return "; ".join(parts)


def strategy_text(config: Mapping[str, Any]) -> str:
    """How a tuned run's values were chosen: 'grid', or the halving schedule (describe)."""
    tune = config.get("tune") or {}
    node = tune.get("halving")
    if not node:
        return "grid"
    points = len({tuple(e["values"]) for e in tune.get("runs") or []})
    return describe(int(node["eta"]), [int(e) for e in node["epochs"]], points, int(node.get("finalists", 1)))
