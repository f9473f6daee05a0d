"""A successive-halving tuning stage on the local SLURM cluster (slurm/cluster.sh) through submitit: one job array
per rung, each held by afterok on the previous rung's jobs, the tuned run after the last rung; a sweep whose later
rung was cancelled (killed between rungs) resumes at that rung when the command is run again, and no epoch is
trained twice. The race is the smallest with two rungs (two points, eta 2, epochs 1 then 2: four jobs run, where
the shared four-point, three-rung race ran nine); the rung arithmetic and the four-point race are the local
executor's test, tests/sweep/stages/tune/test_tune_halving.py."""

from __future__ import annotations

import json

import pytest

from halving_sweep import epoch_lines, write_halving_sweep
from repo_paths import REPO
from repro.runs.rundir import RunDir
from repro.sweep.executors.slurm.registry import Registry
from repro.sweep.run import run_sweep
from repro.sweep.spec.model import Scale
from repro.sweep.sweep_folder import sweep_dir
from slurm_cluster import (  # noqa: F401  (slurm_cluster is the session fixture)
    HANG_GUARD_S,
    slurm_cluster,
    wait_until,
)

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

PROFILE = REPO / "slurm" / "profiles" / "local.yaml"
SCALE = Scale(epochs=2, subset=200, test_subset=100)
RUNGS = (1, 2)  # the two points train to epoch 1; the one promoted goes on to epoch 2


def _stopped_at(rd: RunDir) -> int | None:
    try:
        status = json.loads(rd.status_file.read_text())
    except (OSError, ValueError):
        return None
    return status["epoch"] if status.get("state") == "stopped" else None


def test_a_halving_sweep_on_slurm_submits_rung_after_rung_and_resumes_at_the_right_rung(slurm_cluster, tmp_path):
    path = write_halving_sweep(tmp_path, name="slurm-halving", values="[0.0, 0.1]")
    out = (tmp_path / "out").resolve()
    lines: list[str] = []
    plan = run_sweep(path, output_root=out, executor="slurm", profile=PROFILE, scale=SCALE, report=lines.append)
    assert sorted(plan.submitted) == sorted(plan.unique)
    # one array per rung, each after the previous rung's jobs, then the tuned run after the last rung
    assert len([x for x in lines if x.startswith("submitted job ")]) == len(RUNGS) + 1, lines
    registry = Registry.load(sweep_dir(out, "slurm-halving") / "jobs.json")
    rungs = [[rid for rid, r in plan.unique.items() if (r.config["halving"]["rung"] == k)] for k in range(len(RUNGS))]
    for k in range(1, len(RUNGS)):
        for rid in rungs[k]:
            assert sorted(registry.latest(rid).after) == sorted(registry.latest(d).job_id for d in rungs[k - 1])
    runs = [RunDir(out / "runs" / rid) for rid in rungs[-1]]  # the last rung's jobs have the runs' own ids

    # killed between rungs: rung 1's array is cancelled while it waits for rung 0; SLURM then cancels what waits
    # for it (--kill-on-invalid-dep): the tuned run
    slurm_cluster.run("scancel", registry.latest(rungs[1][0]).job_id.split("_")[0])
    wait_until(lambda: all(_stopped_at(rd) == RUNGS[0] for rd in runs), HANG_GUARD_S, "rung 0 to stop every run")
    later = {registry.latest(rid).job_id.split("_")[0] for ids in rungs[1:] for rid in ids}
    later |= {registry.latest(rid).job_id.split("_")[0] for rid, r in plan.unique.items() if r.stage == "single"}

    def none_queued() -> bool:
        queued = slurm_cluster.run("squeue", "-h", "-o", "%F").stdout.split()
        return not later & set(queued)

    wait_until(none_queued, HANG_GUARD_S, "the later rungs and the tuned run to leave the queue")

    # the same command again: rung 0 is done and is not submitted again; the point it left behind is not
    # submitted for rung 1 either: the promoted point's rung 1 job, and the tuned run, are
    again = run_sweep(path, output_root=out, executor="slurm", profile=PROFILE, scale=SCALE, report=lines.append)
    promoted = [rid for rid in rungs[1] if rid in again.submitted]
    assert len(promoted) == 1 and len(again.submitted) == 1 + 1 and not set(again.submitted) & set(rungs[0])
    (single,) = [rid for rid, r in plan.unique.items() if r.stage == "single"]
    wait_until(lambda: RunDir(out / "runs" / single).is_done(), HANG_GUARD_S, "the tuned run's summary")

    trained = [epoch_lines(rd) for rd in runs]
    assert all(e == list(range(1, len(e) + 1)) for e in trained)  # every epoch once, each rung resumed the last
    assert sorted(map(len, trained)) == [1, 2]  # 3 epochs where the grid trains 4; the loser stops at rung 0
    assert [_stopped_at(rd) for rd in runs].count(None) == 1 and sum(rd.is_done() for rd in runs) == 1
    assert all(len(Registry.load(registry.path).runs[rid]) == 1 for rid in rungs[0])  # rung 0: one submission
    summary = RunDir(out / "runs" / single).read_summary()
    assert summary["tune_strategy"].startswith("halving") and len(summary["tune_scores"]) == 1
    # on the tuning runs' own split and seed the tuned run is the finalist's training: its records, not trained again
    assert summary["same_training_as"] == next(rd.run_id for rd in runs if rd.is_done())
    third = run_sweep(path, output_root=out, executor="slurm", profile=PROFILE, scale=SCALE, report=lambda s: None)
    assert third.submitted == [] and third.counts() == {"done": len(plan.unique)}
