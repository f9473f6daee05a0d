"""A sweep kept to a budget (`repro sweep FILE --max-gpu-hours H`, repro/sweep/stages/budget_cap/): on digits, a cap
that admits the cheap row trains it and holds the dearer one (exit 4, one line why), and the same command with a
larger cap trains the rest and nothing twice; the dry run says what it would hold; on fabricated runs, the budget
counts a finished run's measured time, holds what depends on a held run, and on SLURM (faked) submits of a further
round of seeds until decided only what fits. Prices at the H100 figures (an empty calibration folder): a test's cap
is set between its runs' own prices, never from a timing."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from capped_sweep import price, write_capped_sweep
from presets import TINY_SEQUENTIAL_SWEEP, TINY_SWEEP, TINY_SWEEP_SCALE, write_tiny_sweep
from repo_paths import REPO
from repro.cli import main
from repro.runs.rundir import RunDir
from repro.sweep.executors.slurm import cluster
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.protocol.base import Asked
from repro.sweep.run import run_sweep
from repro.sweep.spec.model import PlannedRun, Scale
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_plan import plan_sweep


@pytest.fixture(autouse=True)
def _h100_figures(tmp_path, monkeypatch):
    """No stored calibration: every price is the design notes' H100 figures, whatever this machine holds."""
    monkeypatch.setenv("REPRO_CALIBRATION_DIR", str(tmp_path / "no-calibration"))


def _finish(out: Path, run: PlannedRun, summary: dict) -> None:
    rd = RunDir(out.resolve() / "runs" / run.run_id)
    rd.path.mkdir(parents=True, exist_ok=True)
    rd.write_config(run.config)
    rd.write_status("done", epoch=1)
    rd.write_summary({"final_test_acc": 0.5, "epochs": 1, **summary})


@pytest.mark.slow  # the command's imports and the dry run's pricing
def test_the_dry_run_says_what_the_budget_would_hold(tmp_path, capsys):
    path, rows, cap = write_capped_sweep(tmp_path)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--output-root", str(out), "--dry-run", "--max-gpu-hours", repr(cap)]) == 0
    text = capsys.readouterr().out
    assert f"BUDGET HOLDS 2 run(s) (--max-gpu-hours {cap:g})" in text and "2 held by a stage" in text
    assert not (out / "runs").exists()
    assert main(["sweep", "status", str(path), "--output-root", str(out), "--max-gpu-hours", repr(cap)]) == 4
    status = capsys.readouterr().out
    assert status.count("held (over the budget: --max-gpu-hours") == 2


@pytest.mark.slow
def test_a_capped_sweep_trains_what_fits_and_a_larger_cap_goes_on_where_it_stopped(tmp_path, capsys):
    path, rows, cap = write_capped_sweep(tmp_path)
    out = tmp_path / "out"
    args = ["sweep", str(path), "--output-root", str(out), "--jobs", "1"]
    assert main([*args, "--max-gpu-hours", repr(cap)]) == 4
    text = capsys.readouterr().out
    assert all(RunDir(out / "runs" / r.run_id).is_done() for r in rows["Baseline"])
    assert not any((out / "runs" / r.run_id).exists() for r in rows["Longer"])
    # one line says why, after the plan and again after the round that trained (its time measured, past the cap)
    assert f"BUDGET HOLDS 2 run(s) (--max-gpu-hours {cap:g})" in text and "what is spent and started passes it" in text
    trained = {r.run_id: (out / "runs" / r.run_id / "summary.json").read_bytes() for r in rows["Baseline"]}

    assert main([*args, "--max-gpu-hours", "1"]) == 0
    text = capsys.readouterr().out
    assert "budget --max-gpu-hours 1: " in text and "nothing held" in text
    assert all(RunDir(out / "runs" / r.run_id).is_done() for r in rows["Longer"])
    assert {rid: (out / "runs" / rid / "summary.json").read_bytes() for rid in trained} == trained  # not again
    assert text.count(": training") == 2


def test_the_budget_counts_measured_time_and_holds_what_depends_on_a_held_run(tmp_path):
    path = write_tiny_sweep(tmp_path, TINY_SWEEP)
    spec, out = load_sweep(path), tmp_path / "out"
    runs = expand_sweep(spec, output_root=out, scale=TINY_SWEEP_SCALE)
    baseline = next(r for r in runs if r.row == "Baseline")
    folds = [r for r in runs if r.stage == "fold"]
    final = next(r for r in runs if r.stage == "final")
    assert set(final.depends_on) == {f.run_id for f in folds}
    measured = 0.01  # GPU-hours the Baseline run is recorded to have taken: far above any digits run's price
    cap = measured + price(folds[0]) + price(folds[1]) / 2

    def states(summary: dict) -> dict[str, str]:
        _finish(out, baseline, summary)
        plan = plan_sweep(spec, output_root=out, scale=TINY_SWEEP_SCALE, asked=Asked(options={"max_gpu_hours": cap}))
        return {rid: f"{s.state} ({s.detail})" for rid, s in plan.status.items()}

    got = states({"seconds": measured * 3600})
    assert got[folds[0].run_id] == "new ()"
    assert got[folds[1].run_id].startswith("held (over the budget")
    assert got[final.run_id] == f"held (waits for a run the budget holds (--max-gpu-hours {cap:g}))"
    # no measured time: the finished run counts at its price, far below the time above, and everything fits
    got = states({})
    assert {got[r.run_id] for r in [*folds, final]} == {"new ()"}


SEQUENTIAL = TINY_SEQUENTIAL_SWEEP
SEQUENTIAL_SCALE = Scale(epochs=1, stage_options={"until_decided": True, "max_seeds": 4})
# the file's seeds: Ours well ahead of the baseline (decided), ahead of MWNet by 8 and 12 points (a further round)
FIRST_SEEDS = {("Baseline", 0): 60.0, ("Baseline", 1): 60.2, ("Ours (setting A)", 0): 80.0,
               ("Ours (setting A)", 1): 81.0, ("MWNet", 0): 72.0, ("MWNet", 1): 69.0}  # fmt: skip


def test_on_slurm_a_further_round_of_seeds_submits_only_what_fits(tmp_path, monkeypatch):
    """SLURM faked (plan, decide, submit what is not held): the round the until-decided stage releases is submitted
    as far as the budget goes, the rest held; the same command with a larger budget submits the rest."""
    path = tmp_path / "seq6.yaml"
    path.write_text(textwrap.dedent(SEQUENTIAL))
    spec, out = load_sweep(path), tmp_path / "out"
    submitted: list[list[str]] = []

    def fake_submit(runs, **kw):
        submitted.append([r.run_id for r in runs])
        return [r.run_id for r in runs]

    monkeypatch.setattr("repro.sweep.executors.slurm.submit.submit_runs", fake_submit)
    monkeypatch.setattr(cluster, "check_partition", lambda partition: None)
    monkeypatch.setattr(cluster, "queued_jobs", lambda: {})
    monkeypatch.setattr(cluster, "finished_states", lambda ids: {})
    first = plan_sweep(spec, output_root=out, scale=SEQUENTIAL_SCALE)
    for run in first.unique.values():
        if (run.row, run.seed) in FIRST_SEEDS:
            _finish(out, run, {"final_test_acc": FIRST_SEEDS[(run.row, run.seed)] / 100})
    released = plan_sweep(spec, output_root=out, scale=SEQUENTIAL_SCALE)
    round2 = list(released.to_submit)
    assert sorted((r.row, r.seed) for r in round2) == [("MWNet", 2), ("Ours (setting A)", 2)]
    spent = sum(price(released.unique[rid]) for rid in released.done)  # fabricated: no measured time
    cap = spent + price(round2[0]) + price(round2[1]) / 2

    slurm = dict(output_root=out, executor="slurm", profile=REPO / "slurm/profiles/local.yaml", scale=SEQUENTIAL_SCALE)
    plan = run_sweep(path, **slurm, report=lambda line: None, decision_options={"max_gpu_hours": cap})
    assert submitted == [[round2[0].run_id]]
    assert plan.status[round2[1].run_id].detail.startswith("over the budget") and round2[1].run_id in plan.held
    plan = run_sweep(path, **slurm, report=lambda line: None, decision_options={"max_gpu_hours": 2 * cap})
    assert submitted[1:] == [[r.run_id for r in round2]]  # the fake queue keeps nothing: both are submitted
    assert not {r.run_id for r in round2} & plan.held
