"""The baseline gate (repro/sweep/stages/gate/gate.py) on the throw-away one-node SLURM cluster: no job waits on a
gate, so the
first `repro sweep --executor slurm` submits the gate runs alone; re-running the command once they are done holds the
rest when the number is far (exit 4, nothing submitted), submits it when the number is near, and `--accept-gate`
releases a held table."""

from __future__ import annotations

from pathlib import Path

import pytest

from gated_sweep import baseline_mean, row_runs, write_gated_sweep
from repo_paths import REPO
from repro.cli import main
from repro.sweep.executors.slurm.registry import Registry
from repro.sweep.sweep_folder import sweep_dir
from slurm_cluster import HANG_GUARD_S, slurm_cluster, wait_until  # noqa: F401  (the session fixture)

pytestmark = pytest.mark.slurm

PROFILE = REPO / "slurm" / "profiles" / "local.yaml"


def _sweep(path: Path, out: Path, *more: str) -> int:
    return main(
        ["sweep", str(path), "--output-root", str(out), "--executor", "slurm", "--profile", str(PROFILE), *more]
    )


def _wait_done(path: Path, out: Path, row: str) -> None:
    rds = row_runs(path, out, row)
    wait_until(lambda: all(rd.is_done() for rd in rds), HANG_GUARD_S, f"the {row} runs' summaries")


def test_the_gate_on_slurm_is_decided_by_re_running_the_command(slurm_cluster, tmp_path, capsys):
    far, out = write_gated_sweep(tmp_path, 5.0), tmp_path / "out"
    assert _sweep(far, out) == 0
    text = capsys.readouterr().out
    assert "PENDING" in text and "submitted job " in text and "submitted 2 run(s)" in text
    registry = Registry.load(sweep_dir(out.resolve(), "gated") / "jobs.json")
    assert not any(registry.latest(rd.run_id) for rd in row_runs(far, out, "Smoothing"))  # held, not queued
    _wait_done(far, out, "Baseline")

    assert _sweep(far, out) == 4  # the gate runs are done and far from the number: held, nothing submitted
    text = capsys.readouterr().out
    assert "HELD: nothing else of the table starts (2 run(s) wait)" in text and "submitted job " not in text

    # a table whose gate is near the same runs' mean: the re-run submits the rest at once
    near = write_gated_sweep(
        tmp_path,
        round(baseline_mean(far, out) - 0.4, 2),
        name="near",
        other="Penalty",
        method="method=confidence_penalty",
    )
    assert _sweep(near, out) == 0
    text = capsys.readouterr().out
    assert "PASSED" in text and "submitted 2 run(s)" in text
    _wait_done(near, out, "Penalty")

    assert _sweep(far, out, "--accept-gate") == 0
    text = capsys.readouterr().out
    assert "ACCEPTED by " in text and "submitted 2 run(s)" in text
    _wait_done(far, out, "Smoothing")
