"""benchmarks/chaos.py, short: a two-run digits sweep trained here two at a time side by side (`--runs-per-gpu 2`),
hit by two faults at known points (a run's process killed by a drawn signal, the `repro sweep` command killed while
its runs train), re-run until done, then every check of the benchmark: each run done once, its epochs once, one
writer, nothing stale, no orphan process, status right at once, and the final metrics equal to the undisturbed
runs', bit for bit. The SLURM, W&B and out-of-memory faults are the full benchmark's (docs/reliability.md reports a
run of it); a killed packed SLURM run's status is tests/sweep/executors/test_sweep_slurm_packed.py's."""

from __future__ import annotations

import json

import pytest

from benchmarks import chaos, chaos_scenario

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_two_faults_leave_the_runs_as_if_undisturbed(tmp_path, capsys, monkeypatch):
    # status must turn right after each fault; how soon is the full benchmark's figure, never this test's pass/fail
    monkeypatch.setattr(chaos_scenario, "STATUS_BOUND_S", chaos_scenario.HANG_GUARD_S)
    argv = ["--out", str(tmp_path / "chaos"), "--faults", "2", "--scenarios", "local-packed", "--small"]
    argv += ["--kinds", "kill-run,kill-command", "--no-wandb", "--epochs", "8", "--subset", "200", "--test-subset"]
    code = chaos.main([*argv, "100"])
    printed = capsys.readouterr().out
    report = json.loads((tmp_path / "chaos" / "report.json").read_text())
    scenario = report["scenarios"]["local-packed"]
    assert code == 0, printed
    assert sorted(r["fault"] for r in scenario["faults"]) == ["kill-command", "kill-run"]
    assert all(r["landed"] for r in scenario["faults"]), scenario["faults"]  # each hit a run mid-way
    assert all(not problems for problems in scenario["checks"].values()) and len(scenario["checks"]) == 7
    assert len(scenario["exits"]) >= 2 and scenario["exits"][-1] == 0  # re-run, and the last run of it ended well
    assert "| local-packed | 2 of 2 |" in printed
