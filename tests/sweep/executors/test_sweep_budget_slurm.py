"""A budget (`--max-gpu-hours`, repro/sweep/stages/budget_cap/) on the throw-away one-node SLURM cluster: the first
`repro sweep --executor slurm` submits what fits and holds the rest (exit 4, nothing of it queued); once that is done,
the same command with a larger budget submits the rest, and nothing twice. One seed: what SLURM adds is what the
command submits; what is held and why are the local tests' (tests/sweep/stages/budget_cap/)."""

from __future__ import annotations

import pytest

from capped_sweep import write_capped_sweep
from repo_paths import REPO
from repro.cli import main
from repro.runs.rundir import RunDir
from repro.sweep.executors.slurm.registry import Registry
from repro.sweep.sweep_folder import sweep_dir
from slurm_cluster import HANG_GUARD_S, slurm_cluster, wait_until  # noqa: F401  (the session fixture)

pytestmark = pytest.mark.slurm

PROFILE = REPO / "slurm" / "profiles" / "local.yaml"


def test_a_budget_holds_a_slurm_sweep_and_a_larger_one_submits_the_rest(slurm_cluster, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("REPRO_CALIBRATION_DIR", str(tmp_path / "no-calibration"))  # the H100 figures
    path, rows, cap = write_capped_sweep(tmp_path, seeds="[0]")
    out = tmp_path / "out"
    args = ["sweep", str(path), "--output-root", str(out), "--executor", "slurm", "--profile", str(PROFILE)]
    registry = sweep_dir(out.resolve(), "capped") / "jobs.json"
    (first,), (held,) = rows["Baseline"], rows["Longer"]

    assert main([*args, "--max-gpu-hours", repr(cap)]) == 4
    text = capsys.readouterr().out
    assert "BUDGET HOLDS 1 run(s)" in text and "submitted 1 run(s)" in text
    job = Registry.load(registry).latest(first.run_id)
    assert job and not Registry.load(registry).latest(held.run_id)  # held, not queued
    wait_until(lambda: RunDir(out / "runs" / first.run_id).is_done(), HANG_GUARD_S, "the Baseline run's summary")

    assert main([*args, "--max-gpu-hours", "1"]) == 0
    assert "submitted 1 run(s)" in capsys.readouterr().out
    assert Registry.load(registry).latest(held.run_id)  # released: queued on SLURM
    assert Registry.load(registry).latest(first.run_id) == job  # done: never submitted again
    slurm_cluster.cancel_jobs_under(tmp_path)
