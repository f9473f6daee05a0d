"""Successive halving of a tuning stage (`tune: {strategy: halving}`): the rungs and the race on hand-written
metrics (validation only, ties to the grid's first point), the plan (one job per rung of the same run, each rung
waiting for the one before), the dry run's GPU-hours of both strategies, bad settings refused, and on digits a
halving sweep killed between rungs that resumes at the right rung, trains fewer epochs than its grid, never trains
a loser past its rung and never trains an epoch twice; a run stopped at a rung resumes to exactly the result of the
uninterrupted run."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from analysis.collect import collect_runs
from analysis.tables.build import build_table
from analysis.tables.paper import paper_table
from analysis.tables.render import render_markdown
from halving_sweep import RUNGS, SCALE, SURVIVORS, epoch_lines, write_halving_sweep
from presets import CLEAN
from repro.cli import main
from repro.config import load_config, to_container
from repro.runs.checkpoint import load_checkpoint
from repro.runs.rundir import RunDir
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.plan import make_plan
from repro.sweep.run import run_sweep
from repro.sweep.spec.model import Scale
from repro.sweep.stages.tune.halving import Ladder, climb, finalists, rung_epochs, survivor_counts, unit_id
from repro.sweep.stages.tune.halving_cost import strategy_costs
from repro.sweep.start import train_run
from repro.sweep.sweep_file import load_sweep
from repro.train import train
from resume_check import EXACT, checkpoint_tensors, torch_flags_kept


def test_rungs_end_at_the_runs_own_epochs_and_stop_halving_at_one_point():
    assert rung_epochs(30, 3, 16) == (3, 10, 30)  # 16 -> 5 -> 1 points
    assert rung_epochs(120, 3, 32) == (4, 13, 40, 120)  # 32 -> 10 -> 3 -> 1
    assert rung_epochs(120, 3, 32, min_epochs=10) == (13, 40, 120)
    assert rung_epochs(8, 3, 4) == (3, 8)  # 4 -> 1: one halving is all there is to do
    assert rung_epochs(4, 2, 4) == RUNGS
    assert rung_epochs(30, 3, 1) == (30,)  # one point: the grid
    assert rung_epochs(1, 3, 16) == (1,) and rung_epochs(2, 3, 16) == (1, 2)  # as many rungs as epochs allow
    assert survivor_counts(16, 3, 3) == [16, 5, 1] and survivor_counts(4, 2, 3) == list(SURVIVORS)


def test_the_first_rung_is_past_the_warm_up_and_a_share_of_the_run():
    # WRN-28-10's 120 epochs with a 5-epoch warm-up: the old first rung (epoch 4) fell inside the warm-up
    assert rung_epochs(120, 3, 32, warmup_epochs=5) == (13, 40, 120)
    assert rung_epochs(30, 3, 16, warmup_epochs=3) == (10, 30)  # epoch 3 is the warm-up's last: moved past it
    assert rung_epochs(120, 3, 32, min_fraction=0.25) == (40, 120)  # 13 < 30: one rung before the end
    # no power of eta between the floor and the end, but points to cut: one rung at the floor itself
    assert rung_epochs(120, 3, 32, min_fraction=0.5) == (60, 120)
    assert rung_epochs(6, 3, 16, warmup_epochs=6) == (6,)  # nothing left after the warm-up: the grid


def test_at_least_finalists_points_train_to_full_length():
    assert survivor_counts(32, 3, 3, finalists=3) == [32, 10, 3]
    assert survivor_counts(4, 3, 2, finalists=3) == [4, 3]
    # a race whose points are fewer than the finalists plus one halves nothing: the grid
    assert rung_epochs(30, 3, 3, finalists=3) == (30,)
    # 32 points: 32 -> 10 -> 3, and no third halving (it would cut nothing)
    assert rung_epochs(120, 3, 32, finalists=3) == (13, 40, 120)


def _write_run(root, rid: str, val: list[float], test: list[float]) -> None:
    rd = RunDir(root / rid)
    rd.path.mkdir(parents=True)
    rd.write_metrics([{"epoch": e + 1, "val_acc": v, "test_acc": t} for e, (v, t) in enumerate(zip(val, test))])


def test_the_race_ranks_on_validation_at_each_rung_with_ties_to_the_first_point(tmp_path):
    # four points, eta 2, rungs at epochs 1 and 2 of 3; test accuracy always prefers the losers
    runs = {
        "a": ([0.5, 0.6, 0.6], [0.9, 0.9, 0.9]),
        "b": ([0.7, 0.8, 0.9], [0.1, 0.1, 0.1]),
        "c": ([0.7, 0.7], [0.1, 0.1]),  # ties b at epoch 1: b is the earlier grid point, so b ranks first
        "d": ([0.2], [0.99]),
    }
    for rid, (val, test) in runs.items():
        _write_run(tmp_path, rid, val, test)
    entries = [{"run": rid, "values": [i]} for i, rid in enumerate(runs)]
    race = climb(Ladder.of(entries, select="final_val_acc", node={"eta": 2, "epochs": (1, 2, 3)}), tmp_path)
    assert [p for p, _ in race.rungs[0].ranked] == [1, 2, 0, 3] and race.rungs[0].promoted == (1, 2)
    assert race.rungs[1].promoted == (1,) and race.decided and race.out_at(3) == 0 and race.out_at(2) == 1
    # best_val_acc at a rung is the best up to that epoch: a (0.5, 0.6) and c's epoch 1 are what count there
    best = climb(Ladder.of(entries, select="best_val_acc", node={"eta": 2, "epochs": (2, 3)}), tmp_path)
    assert best.waiting.startswith("rung 0 (epoch 2) waits for 1 tuning run(s)")  # d never reached epoch 2
    # the tuned run chooses among the points that trained to the last rung
    config = {
        "output_root": str(tmp_path.parent),
        "tune": {
            "keys": ["method.x"],
            "runs": entries,
            "select": "final_val_acc",
            "halving": {"eta": 2, "epochs": [1, 2, 3]},
        },
    }
    (tmp_path.parent / "runs").mkdir(exist_ok=True)
    for rid in runs:
        (tmp_path / rid).rename(tmp_path.parent / "runs" / rid)
    assert finalists(config) == {(1,)}


def test_a_halving_stage_plans_one_job_per_rung_of_the_same_run(tmp_path):
    path = write_halving_sweep(tmp_path, strategy=None)
    grid = expand_sweep(
        load_sweep(path), output_root=tmp_path, scale=replace(SCALE, stage_options={"tune_strategy": "grid"})
    )
    runs = expand_sweep(
        load_sweep(path), output_root=tmp_path, scale=replace(SCALE, stage_options={"tune_strategy": "halving"})
    )
    grid_tune = [r.run_id for r in grid if r.stage == "tune"]
    jobs = [r for r in runs if r.stage == "tune"]
    assert len(jobs) == 4 * len(RUNGS)
    by_rung = [[j for j in jobs if j.config["halving"]["rung"] == k] for k in range(len(RUNGS))]
    # the last rung's jobs are the grid's tuning runs (same ids: the halving node is not part of the run id) ...
    assert [j.run_id for j in by_rung[-1]] == grid_tune
    # ... the earlier rungs' jobs train those same runs, stopped at their rung
    assert [j.run_id for j in by_rung[0]] == [unit_id(rid, 0) for rid in grid_tune]
    for k, level in enumerate(by_rung):
        for job in level:
            assert job.config["halving"]["epochs"] == list(RUNGS) and job.config["optim"]["epochs"] == 4
            assert set(job.depends_on) == ({j.run_id for j in by_rung[k - 1]} if k else set())
            assert RunDir.for_config(job.config).run_id in grid_tune
    # what a job trains is what `repro train` composes from its overrides
    assert to_container(load_config(list(by_rung[1][0].overrides))) == by_rung[1][0].config
    # the tuned run waits for the race and chooses among its finalists: another run than the grid's tuned run
    (single,) = [r for r in runs if r.stage == "single"]
    (grid_single,) = [r for r in grid if r.stage == "single"]
    assert single.config["tune"]["halving"] == {"eta": 2, "epochs": list(RUNGS), "finalists": 1}
    assert single.run_id != grid_single.run_id and set(single.depends_on) >= {j.run_id for j in by_rung[-1]}


def test_the_dry_run_prices_halving_beside_the_full_grid(tmp_path, capsys):
    path = write_halving_sweep(tmp_path, strategy=None)
    args = ["sweep", str(path), "--output-root", str(tmp_path / "out"), "--dry-run", "--epochs", "4"]
    assert main([*args, "--tune-strategy", "halving"]) == 0
    out = capsys.readouterr().out
    assert "tune rung 0/2" in out and "halving (eta 2) to epochs 1, 2, 4" in out
    assert any(x.startswith("Label Smoothing") and x.rstrip().endswith("halving") for x in out.splitlines())
    # the printed figures of a digits run have two significant digits: the ratio is checked on the priced stage
    spec, scale = load_sweep(path), Scale(epochs=4, stage_options={"tune_strategy": "halving"})
    plan = make_plan(spec, expand_sweep(spec, output_root=tmp_path / "out", scale=scale), tmp_path / "out")
    (stage,) = strategy_costs(plan).stages
    # 4 points x 4 epochs for the grid; 4 x 1 + 2 x 1 + 1 x 2 = 8 epochs for halving
    assert stage.worst == pytest.approx(stage.expected) and stage.expected / stage.grid == pytest.approx(8 / 16)
    assert "table total: grid" in out
    assert main(args) == 0  # the grid plan prices halving too
    assert "halving worst" in capsys.readouterr().out
    assert not (tmp_path / "out").exists()


def test_a_stage_that_pins_its_strategy_keeps_it_under_the_sweeps_strategy(tmp_path, capsys):
    for pinned, other in (("grid", "halving"), ("halving", "grid")):
        path = write_halving_sweep(tmp_path, strategy=pinned)
        runs = expand_sweep(
            load_sweep(path), output_root=tmp_path, scale=replace(SCALE, stage_options={"tune_strategy": other})
        )
        assert any("@rung" in r.run_id for r in runs) == (pinned == "halving")
    # the dry run names the pinned stage and leaves it out of what `--tune-strategy` chooses
    path = write_halving_sweep(tmp_path, strategy="grid")
    args = ["sweep", str(path), "--output-root", str(tmp_path / "out"), "--dry-run", "--epochs", "4"]
    assert main([*args, "--tune-strategy", "halving"]) == 0
    out = capsys.readouterr().out
    assert "pinned by the sweep file (1 stage(s)" in out and "grid (pinned)" in out
    assert "tune rung" not in out


def test_the_dry_run_shows_each_rung_with_its_lr_and_survivors(tmp_path, capsys):
    path = write_halving_sweep(tmp_path, strategy=None)
    path.write_text(path.read_text().replace("min_fraction: 0.0", "min_fraction: 0.5"))
    args = ["sweep", str(path), "--output-root", str(tmp_path / "out"), "--dry-run", "--epochs", "4"]
    assert main([*args, "--tune-strategy", "halving", "optim.warmup_epochs=2"]) == 0
    out = capsys.readouterr().out
    # half of 4 epochs is 2, but the warm-up ends with epoch 2: the first rung moves to epoch 3, the cosine's first
    # epoch at the peak lr, and the last epoch trains at half of it (cosine over the 2 epochs after the warm-up)
    assert "3 (lr 1.00, 4 pts), 4 (lr 0.50, 2 pts)" in out


@pytest.mark.parametrize(
    "line, setting, message",
    [
        ("eta: 2", "strategy: random", "use grid"),
        ("eta: 2", "eta: 1", "eta=1 (int) is not allowed"),
        ("eta: 2", "min_epochs: 0", "min_epochs=0"),
        ("min_fraction: 0.0", "min_fraction: 1.0", "min_fraction=1.0 (float) is not allowed"),
        ("finalists: 1", "finalists: 0", "finalists=0 (int) is not allowed"),
    ],
)
def test_bad_halving_settings_are_refused_at_plan_time(tmp_path, capsys, line, setting, message):
    path = write_halving_sweep(tmp_path)
    path.write_text(path.read_text().replace(line, setting))
    assert main(["sweep", str(path), "--output-root", str(tmp_path / "out"), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


class _KilledBetweenRungs(Exception):
    pass


@pytest.mark.slow
def test_a_halving_sweep_killed_between_rungs_resumes_there_and_trains_nothing_twice(tmp_path, capsys):
    path = write_halving_sweep(tmp_path)
    out = (tmp_path / "out").resolve()

    def kill_at_rung_1(line: str) -> None:  # the command dies as the first job of rung 1 is about to start
        if "@rung1" in line and line.endswith(": training"):
            raise _KilledBetweenRungs

    with pytest.raises(_KilledBetweenRungs):
        run_sweep(path, output_root=out, scale=SCALE, report=kill_at_rung_1, jobs=1)
    runs = expand_sweep(load_sweep(path), output_root=out, scale=SCALE)
    tuning = [RunDir(out / "runs" / r.run_id) for r in runs if r.stage == "tune" and "@" not in r.run_id]
    for rd in tuning:  # rung 0 is done: every point stopped after its first epoch, on the 4-epoch schedule
        status = json.loads(rd.status_file.read_text())
        assert status["state"] == "stopped" and status["epoch"] == 1 and not rd.is_done()
        assert rd.read_config()["optim"]["epochs"] == 4
    lines: list[str] = []
    plan = run_sweep(path, output_root=out, scale=SCALE, report=lines.append, jobs=1)
    assert plan.failed == [] and plan.counts() == {"done": len(plan.unique)}
    assert not any("@rung0" in line and "training" in line for line in lines)  # rung 0 was not run again
    trained = {rd.run_id: epoch_lines(rd) for rd in tuning}
    for epochs in trained.values():  # every epoch trained once, in order: each rung resumed where the last stopped
        assert epochs == list(range(1, len(epochs) + 1))
    # fewer epochs than the grid: 4 points to epoch 1, 2 of them to epoch 2, 1 to epoch 4
    assert sorted(len(e) for e in trained.values()) == [1, 1, 2, 4] and sum(map(len, trained.values())) == 8 < 4 * 4
    # the losers stopped at their rung; the one finalist is done
    assert sum(rd.is_done() for rd in tuning) == 1
    (single,) = [r for r in runs if r.stage == "single"]
    summary = RunDir(out / "runs" / single.run_id).read_summary()
    finalist = next(rd.run_id for rd in tuning if rd.is_done())
    assert summary["tune_strategy"].startswith("halving (eta 2; rungs at epochs 1, 2, 4; 4 -> 2 -> 1 points)")
    assert [s[2] for s in summary["tune_scores"]] == [[finalist]] and summary["tuned"].endswith("(by halving)")
    # the row trains on the tuning runs' split (holdout fold 0) and seed: the tuned run is the finalist, not retrained
    assert summary["same_training_as"] == finalist
    assert [len(r["ranked"]) for r in summary["tune_rungs"]] == [4, 2]
    assert summary["tune_rungs_text"].startswith("epoch 1: 4 ranked, 2 on; led by epsilon=")
    # the rendered table shows each rung's leader beside the winner
    result = build_table(1, load_sweep(path), collect_runs(out), paper_table(6).iloc[:0], output_root=out, scale=SCALE)
    assert f"Label Smoothing / Digits: {summary['tune_rungs_text']}" in render_markdown(result)
    # a re-run trains nothing; `repro sweep status` shows the rungs and who went on
    again = run_sweep(path, output_root=out, scale=SCALE, report=lambda s: None, jobs=1)
    assert again.submitted == []
    assert main(["sweep", "status", str(path), "--output-root", str(out)]) == 0
    status = capsys.readouterr().out
    assert "rung 0 (epoch 1): 2 of 4 go on" in status and "rung 1 (epoch 2): 1 of 2 go on" in status
    assert "  rungs: epoch 1: 4 ranked, 2 on; led by epsilon=" in status
    assert status.count("not promoted") == 2 + 3  # rung 1: two points out at rung 0; rung 2: those and one more


def test_a_run_stopped_at_a_rung_is_the_full_runs_first_epochs_and_resumes_to_its_result(tmp_path):
    """The rung is a stop on the full run's schedule: stopped at epoch 1 of 2 (status `stopped`, no summary, the same
    run id) and resumed by a plain `repro train`, the run ends exactly as one trained uninterrupted."""
    small = [*CLEAN, "optim.epochs=2", *EXACT]
    rung = "halving={rung:0,epochs:[1,2],eta:2,select:final_val_acc,runs:[]}"
    with torch_flags_kept():
        whole = train(load_config([*small, f"output_root={tmp_path / 'a'}"]))
        stopped = train_run(load_config([*small, rung, f"output_root={tmp_path / 'b'}"]))
        assert stopped.stopped.startswith("stopped at rung 0") and not stopped.run_dir.is_done()
        assert stopped.run_dir.run_id == whole.run_dir.run_id
        assert json.loads(stopped.run_dir.status_file.read_text())["state"] == "stopped"
        assert len(stopped.run_dir.read_metrics()) == 1
        resumed = train(load_config([*small, f"output_root={tmp_path / 'b'}"]))
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in resumed.run_dir.read_metrics()]
    assert strip == [{k: v for k, v in row.items() if k != "seconds"} for row in whole.run_dir.read_metrics()]
    a = dict(checkpoint_tensors(load_checkpoint(whole.run_dir.checkpoint_file)))
    b = dict(checkpoint_tensors(load_checkpoint(resumed.run_dir.checkpoint_file)))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
