"""The baseline gate (repro/sweep/stages/gate/gate.py) on the throw-away one-node SLURM cluster: no job waits on a
gate, so the first `repro sweep --executor slurm` submits the gate runs alone and returns; re-running the command once
they are done holds the rest when the number is far (exit 4, nothing submitted), and `--accept-gate` submits it.

One seed (one gate run, one held run): what SLURM adds is when the command submits, not the verdict. A near number
releases the rest through the same hold as an accepted gate (`gate.check`: nothing held, so the plan submits it),
and it running straight through, the verdicts and the accepted table's note are the local executor's tests
(tests/sweep/stages/gate/test_sweep_gate.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gated_sweep import row_runs, write_gated_sweep
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


def test_the_gate_on_slurm_is_decided_by_re_running_the_command(slurm_cluster, tmp_path, capsys):
    path, out = write_gated_sweep(tmp_path, 5.0, seeds="[0]"), tmp_path / "out"
    registry_file = sweep_dir(out.resolve(), "gated") / "jobs.json"
    gate_runs, held_runs = row_runs(path, out, "Baseline"), row_runs(path, out, "Smoothing")
    assert len(gate_runs) == len(held_runs) == 1
    assert _sweep(path, out) == 4  # returns at once, the rest held: nothing of this command waits for the gate run
    text = capsys.readouterr().out
    assert "PENDING" in text and "submitted job " in text and "submitted 1 run(s)" in text
    assert not any(Registry.load(registry_file).latest(rd.run_id) for rd in held_runs)  # held, not queued
    wait_until(lambda: all(rd.is_done() for rd in gate_runs), HANG_GUARD_S, "the gate run's summary")

    assert _sweep(path, out) == 4  # the gate run is done and far from the number: held, nothing submitted
    text = capsys.readouterr().out
    assert "HELD: nothing else of the table starts (1 run(s) wait)" in text and "submitted job " not in text
    assert not any(Registry.load(registry_file).latest(rd.run_id) for rd in held_runs)

    assert _sweep(path, out, "--accept-gate") == 0
    text = capsys.readouterr().out
    assert "ACCEPTED by " in text and "submitted 1 run(s)" in text
    assert all(Registry.load(registry_file).latest(rd.run_id) for rd in held_runs)  # released: queued on SLURM
    # the submission was the point: the released run trains as any submitted run does (the sweep tests here)
    slurm_cluster.cancel_jobs_under(tmp_path)
