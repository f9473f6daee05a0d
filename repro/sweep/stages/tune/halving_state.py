"""Where the successive-halving races of a plan stand (repro/sweep/stages/tune/halving.py decides them, from the runs'
own metrics): the state of each rung's job and the epochs it is still expected to train, which the tuning stage
settles on the plan when it decides (`settle`), and the rungs and survivors `repro sweep status` prints.

A rung's job is done when its run has reached the rung's epoch (or is done), or when its run was left behind at an
earlier rung: it has nothing to train, so the jobs waiting for it may start. A job whose run has not reached the
previous rung yet is new (the run's own status belongs to an earlier rung's job), whatever that status says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from repro.runs.records import read_status
from repro.runs.rundir import RunDir
from repro.sweep.plan import SUBMITTABLE, Plan, RunStatus
from repro.sweep.stages.tune.halving import Climb, Ladder, climb, run_of, survivor_counts
from repro.sweep.stages.tune.tuning import point_text


def _node(run: Any) -> dict | None:
    node = run.config.get("halving") or {}
    return node if node.get("rung") is not None else None


def races(runs: Mapping[str, Any], output_root: Path) -> dict[tuple, tuple[Climb, list[Any]]]:
    """Per race (a cell's successive-halving stage): its decided rungs and its planned jobs."""
    found: dict[tuple, tuple[Climb, list[Any]]] = {}
    for run in runs.values():
        node = _node(run)
        if node is None:
            continue
        key = (
            tuple(str(e["run"]) for e in node["runs"]),
            tuple(node["epochs"]),
            node["eta"],
            node.get("finalists", 1),
            node["select"],
        )
        if key not in found:
            ladder = Ladder.of(node["runs"], select=node["select"], node=node)
            found[key] = (climb(ladder, output_root / "runs"), [])
        found[key][1].append(run)
    return found


def settle(plan: Plan) -> None:
    """The tuning stage's decision on a plan's rung jobs (their states as `make_plan` found them from their run's
    directory): a job whose run reached its rung, or was left behind at an earlier one, is done (nothing to train);
    one whose run's status is an earlier rung's job's is new; and each job not done says the epochs it is still
    expected to train (`RunStatus.left`, what `repro sweep status` projects)."""
    found = races(plan.unique, plan.output_root)
    for rid, (state, detail, epoch) in rung_states(found, plan.status, plan.output_root, SUBMITTABLE).items():
        plan.status[rid] = RunStatus(state, detail, plan.status[rid].job_id, epoch)
    for rid, left in epochs_left(plan, found).items():
        plan.status[rid].left = left


def rung_states(
    found: Mapping[tuple, tuple[Climb, list[Any]]],
    status: Mapping[str, Any],
    output_root: Path,
    submittable: tuple[str, ...],
) -> dict[str, tuple[str, str, int]]:
    """{job: (state, detail, epochs its run has done)} for the rung's jobs of the races `found` (`races`) whose state
    differs from the one `status` (plan.status) found for them (`submittable`: the states that are submitted)."""
    states: dict[str, tuple[str, str, int]] = {}
    for race, jobs in found.values():
        epochs = race.ladder.epochs
        for job in jobs:
            uid, rung, st = job.run_id, int(job.config["halving"]["rung"]), status[job.run_id]
            if st.state == "done":
                continue
            rd = RunDir(output_root / "runs" / run_of(uid))
            reached = _epochs_done(rd)
            point = next(i for i, ids in enumerate(race.ladder.runs) if run_of(uid) in ids)
            out = race.out_at(point)
            if reached >= epochs[rung]:
                states[uid] = ("done", f"stopped at rung {rung}, epoch {epochs[rung]}", reached)
            elif out is not None and out < rung:
                states[uid] = ("done", f"not promoted: left behind at rung {out}", reached)
            elif st.state in submittable and st.job_id is None and rung and reached <= epochs[rung - 1]:
                stopped = (read_status(rd) or {}).get("state") in ("stopped", None)
                if stopped or reached < epochs[rung - 1]:  # the run's status is an earlier rung's job's
                    promoted = len(race.rungs) >= rung
                    why = "promoted" if promoted else f"waits for rung {rung - 1} to be decided"
                    states[uid] = ("new", why, reached)
    return states


def _epochs_done(rd: RunDir) -> int:
    try:
        rows = rd.read_metrics()
    except (OSError, ValueError):
        return 0
    return max((int(r.get("epoch") or 0) for r in rows), default=0)


def render_races(plan: Plan) -> str:
    """Per race: each decided rung's ranking (the promoted marked *) and what the next rung waits for."""
    lines = []
    for race, jobs in races(plan.unique, plan.output_root).values():
        ladder, first = race.ladder, jobs[0]
        keys = list(_tuned_keys(plan, first))
        lines.append(
            f"successive halving {first.row} / {first.column}: {len(ladder.points)} points, eta {ladder.eta}, rungs "
            f"at epochs {', '.join(map(str, ladder.epochs))}, by {ladder.select}"
        )
        for k, rung in enumerate(race.rungs):
            ranked = "; ".join(
                f"{'*' if p in rung.promoted else ''}{point_text(keys, ladder.points[p])} {score:.4f}"
                for p, score in rung.ranked
            )
            lines.append(f"  rung {k} (epoch {rung.epoch}): {len(rung.promoted)} of {len(rung.ranked)} go on: {ranked}")
        if race.waiting:
            lines.append(f"  {race.waiting}")
        elif race.decided:
            final = race.racing(len(ladder.epochs) - 1) or ()
            lines.append(
                f"  last rung (epoch {ladder.epochs[-1]}): "
                + ", ".join(point_text(keys, ladder.points[p]) for p in final)
                + " train to the end; the tuned runs choose among them"
            )
    return "\n".join(lines)


def _tuned_keys(plan: Plan, job: Any) -> list[str]:
    """The grid's keys, from a run that waits for the race (a tuning run's own config tunes nothing)."""
    ids = {str(e["run"]) for e in job.config["halving"]["runs"]}
    for run in plan.unique.values():
        tune = run.config.get("tune") or {}
        if tune.get("keys") and ids & {str(e["run"]) for e in tune.get("runs") or []}:
            return list(tune["keys"])
    return [f"key{i}" for i in range(len(job.config["halving"]["runs"][0]["values"]))]


def epochs_left(plan: Plan, found: Mapping[tuple, tuple[Climb, list[Any]]]) -> dict[str, float]:
    """{rung's job not done: the epochs it is expected to train}: from where its run is (or the previous rung) to its
    rung, weighted by the chance that its run gets there (1 once promoted; survivors over the points still racing
    while the rungs before it are undecided). For `repro sweep status`'s projection (repro/sweep/budget/spend.py)."""
    left: dict[str, float] = {}
    for race, jobs in found.values():
        epochs = race.ladder.epochs
        counts = survivor_counts(len(race.ladder.points), race.ladder.eta, len(epochs), race.ladder.finalists)
        decided = len(race.rungs)
        for job in jobs:
            if plan.status[job.run_id].state == "done":
                continue
            rung = int(job.config["halving"]["rung"])
            done = _epochs_done(RunDir(plan.output_root / "runs" / run_of(job.run_id)))
            start = epochs[rung - 1] if rung else 0
            chance = 1.0 if rung <= decided else counts[rung] / counts[decided]
            left[job.run_id] = max(epochs[rung] - max(done, start), 0) * chance
    return left
