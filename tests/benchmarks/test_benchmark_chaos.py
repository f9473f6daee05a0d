"""benchmarks/chaos.py, short: a two-run digits sweep trained here two at a time side by side (`--runs-per-gpu 2`),
hit by two faults at known points (a run's process killed by a drawn signal, the `repro sweep` command killed while
its runs train), re-run until done, then every check of the benchmark: each run done once, its epochs once, one
writer, nothing stale, no orphan process, status right at once, and the final metrics equal to the undisturbed
runs', bit for bit. The SLURM, W&B and out-of-memory faults are the full benchmark's (docs/reliability.md reports a
run of it); a killed packed SLURM run's status is tests/sweep/executors/test_sweep_slurm_packed.py's."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest

from benchmarks import chaos, chaos_faults, chaos_scenario

# What a shell passes on to a command it starts in the background or under `nohup`: these signals ignored
INHERITED_IGNORED = (signal.SIGHUP, signal.SIGUSR1, signal.SIGTERM)


def ignored_signals(pid: int) -> set[int]:
    """The signals process `pid` ignores (its SigIgn mask in /proc)."""
    line = next(ln for ln in Path(f"/proc/{pid}/status").read_text().splitlines() if ln.startswith("SigIgn:"))
    mask = int(line.split()[1], 16)
    return {signum for signum in range(1, 64) if mask >> (signum - 1) & 1}


def test_a_command_the_faults_hit_takes_their_signals_whatever_its_starter_ignored(tmp_path):
    """An ignored signal is inherited through fork and exec: started from a suite run under `nohup`, the chaos
    run's commands ignored SIGHUP, a run "killed" by it trained on to done, and the next fault found nothing left to
    hit (the second tier's flake). The benchmark starts its commands with every fault's signal at its default."""
    before = {signum: signal.signal(signum, signal.SIG_IGN) for signum in INHERITED_IGNORED}
    try:
        sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
        cpus = sorted(os.sched_getaffinity(0))[:1]
        proc = chaos_faults.start_command(sleeper, env=dict(os.environ), log=tmp_path / "log", cwd=tmp_path, cpus=cpus)
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
    try:
        assert not ignored_signals(proc.pid) & set(chaos_faults.IGNORABLE)
        chaos_faults.signal_pid(proc.pid, signal.SIGHUP)
        assert proc.wait(timeout=600) == -signal.SIGHUP  # a hang guard only
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.slow
@pytest.mark.e2e
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
