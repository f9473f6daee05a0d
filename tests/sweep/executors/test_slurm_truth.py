"""SLURM sees the truth about a table's runs, on the throw-away one-node cluster: a run that fails ends its job
FAILED in sacct beside a COMPLETED neighbour; a job killed with no signal (as by a node failure) is resubmitted by
the next `repro sweep` and resumes from its last checkpoint; an array larger than the cluster's MaxArraySize (read
from `scontrol show config`) is split into arrays that run one after the other, each throttled by the profile's
`array_parallelism` (%N)."""

from __future__ import annotations

import json
import os
import signal
import textwrap
from pathlib import Path

import pytest
import yaml

from presets import QUIET_YAML
from repo_paths import REPO
from repro.runs.rundir import RunDir
from repro.sweep.executors.slurm import array_limits
from repro.sweep.executors.slurm import submit as submit_module
from repro.sweep.executors.slurm.registry import Registry
from repro.sweep.run import run_sweep
from repro.sweep.spec.model import Scale
from repro.sweep.sweep_folder import sweep_dir
from slurm_cluster import HANG_GUARD_S, slurm_cluster, wait_until  # noqa: F401  (the session fixture)

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

PROFILE = REPO / "slurm" / "profiles" / "local.yaml"
SWEEP = """
    name: {name}
    metric: final_test_acc
    seeds: {seeds}
    common: [split=full, {quiet}, progress=plain]
    columns:
      Digits/SmallCNN: []
    rows:
{rows}
"""
TINY = Scale(epochs=1, subset=200, test_subset=100)


def _sweep(tmp_path: Path, name: str, seeds: list[int], rows: dict[str, list[str]]) -> Path:
    body = "\n".join(f"      {row}: [{', '.join(overrides)}]" for row, overrides in rows.items())
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(SWEEP).format(name=name, seeds=seeds, rows=body, quiet=QUIET_YAML))
    return path


def _jobs(out: Path, name: str, plan) -> dict[str, str]:
    """run id -> its latest job id, from the sweep's registry."""
    registry = Registry.load(sweep_dir(out.resolve(), name) / "jobs.json")
    return {rid: registry.latest(rid).job_id for rid in plan.unique}


def _ended(cluster, job_id: str) -> str | None:
    state = cluster.sacct_states(job_id).get(job_id, "")
    return state if state and state not in ("PENDING", "RUNNING", "REQUEUED") else None


def test_a_failing_run_ends_its_job_failed_beside_a_completed_one(slurm_cluster, tmp_path):
    rows = {"Baseline": ["method=baseline"], "Diverges": ["method=baseline", "optim.lr=1.0e+30"]}
    path, out = _sweep(tmp_path, "truth-failed", [0], rows), tmp_path / "out"
    plan = run_sweep(path, output_root=out, executor="slurm", profile=PROFILE, scale=TINY, report=lambda _: None)
    jobs = _jobs(out, "truth-failed", plan)
    states = {
        row: wait_until(lambda j=jobs[r.run_id]: _ended(slurm_cluster, j), HANG_GUARD_S, f"the {row} job to end")
        for r in plan.unique.values()
        for row in [r.row]
    }
    assert states == {"Baseline": "COMPLETED", "Diverges": "FAILED"}
    (diverged,) = [r for r in plan.unique.values() if r.row == "Diverges"]
    assert RunDir(out / "runs" / diverged.run_id).read_status()["state"] == "failed"


def test_a_job_killed_without_a_signal_resumes_from_its_checkpoint_when_the_sweep_runs_again(slurm_cluster, tmp_path):
    path, out = _sweep(tmp_path, "truth-killed", [0], {"Baseline": ["method=baseline"]}), tmp_path / "out"
    scale = Scale(epochs=8, subset=300, test_subset=150)
    plan = run_sweep(path, output_root=out, executor="slurm", profile=PROFILE, scale=scale, report=lambda _: None)
    (run,) = plan.unique.values()
    rd = RunDir(out / "runs" / run.run_id)
    first_job = _jobs(out, "truth-killed", plan)[run.run_id]

    def epoch() -> int:
        return int(((rd.read_status() if rd.status_file.exists() else None) or {}).get("epoch") or 0)

    wait_until(lambda: epoch() >= 2, HANG_GUARD_S, "the job to finish two epochs", interval=0.005)
    os.kill(int(json.loads(rd.lock_file.read_text())["pid"]), signal.SIGKILL)  # no SIGTERM, no requeue: a dead node
    assert wait_until(lambda: _ended(slurm_cluster, first_job), HANG_GUARD_S, "the killed job to end") != "COMPLETED"
    assert not rd.is_done()

    again = run_sweep(path, output_root=out, executor="slurm", profile=PROFILE, scale=scale, report=lambda _: None)
    assert again.submitted == [run.run_id]
    wait_until(rd.is_done, HANG_GUARD_S, "the resubmitted job to finish")
    resumed = [line for line in rd.log_file.read_text().splitlines() if "resumed from checkpoint at epoch" in line]
    assert len(resumed) == 1 and int(resumed[0].rsplit(" ", 1)[1]) >= 2
    assert [row["epoch"] for row in rd.read_metrics()] == list(range(1, 9))


def test_max_array_size_is_read_from_the_cluster(slurm_cluster):
    limit = array_limits.max_array_size()
    config = slurm_cluster.run("scontrol", "show", "config").stdout
    assert limit is not None and limit == array_limits.parse_max_array_size(config) > 1


def test_an_oversized_array_is_split_and_each_part_is_throttled(slurm_cluster, tmp_path, monkeypatch):
    monkeypatch.setattr(submit_module, "max_array_size", lambda: 2)  # this cluster allows 100001; a small one
    profile = tmp_path / "throttled.yaml"
    profile.write_text(yaml.safe_dump({**yaml.safe_load(PROFILE.read_text()), "array_parallelism": 1}))
    path, out = _sweep(tmp_path, "truth-split", [0, 1, 2, 3], {"Baseline": ["method=baseline"]}), tmp_path / "out"
    plan = run_sweep(path, output_root=out, executor="slurm", profile=profile, scale=TINY, report=lambda _: None)
    jobs = _jobs(out, "truth-split", plan)
    arrays = sorted({job.split("_")[0] for job in jobs.values()}, key=int)
    assert len(jobs) == 4 and len(arrays) == 2
    assert sorted(job.split("_")[1] for job in jobs.values()) == ["0", "0", "1", "1"]  # two arrays of 2 tasks
    scripts = [p.read_text() for p in sweep_dir(out.resolve(), "truth-split").rglob("*_submission.sh")]
    assert sorted(line for s in scripts for line in s.splitlines() if "--array" in line) == [
        "#SBATCH --array=0-1%1",
        "#SBATCH --array=0-1%1",
    ]
    assert sum(f"--dependency=afterany:{arrays[0]}" in s for s in scripts) == 1  # the second part after the first
    assert "ArrayTaskThrottle=1" in slurm_cluster.run("scontrol", "show", "job", arrays[0]).stdout  # SLURM applies %N
    for run in plan.unique.values():
        job = jobs[run.run_id]
        assert wait_until(lambda j=job: _ended(slurm_cluster, j), HANG_GUARD_S, f"job {job} to end") == "COMPLETED"
        assert RunDir(out / "runs" / run.run_id).is_done()
