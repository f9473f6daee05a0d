"""The `tune:` stage of a sweep file end to end on digits: a 2x2 grid tunes a learned-labels row on fold 0's
validation, the fold and final runs wait for it and train with the winner (the validation winner, also when test
disagrees), `repro tables` shows the chosen values, a re-run plans nothing, a sweep killed during the tuning stage
resumes without training anything twice, and bad tuning stages are refused at plan time (exit 2)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from analysis.collect import collect_runs
from analysis.tables.build import build_table
from repo_paths import REPO
from repro.cli import main
from repro.runs.rundir import RunDir
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.run import run_sweep
from repro.sweep.stages.tune.tune_spec import cell_tune, scaled
from repro.sweep.sweep_file import load_sweep
from tuned_sweep import SCALE, SCALE_ARGS, tuned_sweep_text, write_tuned_sweep

GRID = "{method.label_lr: [0.3, 3], method.init_target_prob: [0.5, 0.9]}"  # 2x2
TUNED = tuned_sweep_text(GRID)


@pytest.fixture
def tuned(tmp_path) -> Path:
    return write_tuned_sweep(tmp_path, GRID)


def test_the_plan_has_tuning_runs_the_cell_depends_on(tuned, tmp_path):
    runs = expand_sweep(load_sweep(tuned), output_root=tmp_path, scale=SCALE)
    tune = [r for r in runs if r.stage == "tune"]
    assert [(r.config["method"]["label_lr"], r.config["method"]["init_target_prob"]) for r in tune] == [
        (0.3, 0.5),
        (0.3, 0.9),
        (3, 0.5),
        (3, 0.9),
    ]  # file order: the first key varies slowest
    for r in tune:  # fold 0's held-out split, the first seed, an ordinary untuned run
        assert r.config["split"]["full_train"] is False and r.config["split"]["fold"] == 0
        assert r.seed == 0 and r.config["tune"]["keys"] == [] and r.depends_on == ()
    others = [r for r in runs if r.stage != "tune"]
    assert [r.stage for r in others] == ["fold", "fold", "final"]
    for r in others:
        assert set(r.depends_on) >= {t.run_id for t in tune}
        assert r.config["tune"]["keys"] == ["method.label_lr", "method.init_target_prob"]
        assert [e["run"] for e in r.config["tune"]["runs"]] == [t.run_id for t in tune]


def _run_tuning_then_rig_its_results(tuned: Path, out: Path) -> list:
    """Train the tuning runs only, then give them results where validation and test disagree."""
    spec = load_sweep(tuned)
    runs = expand_sweep(spec, output_root=out.resolve(), scale=SCALE)
    tune = [r for r in runs if r.stage == "tune"]
    from repro.sweep.executors.job import run_planned
    from repro.sweep.sweep_folder import write_planned_configs

    for path in write_planned_configs(out / "planned", tune).values():
        run_planned(path)
    # validation prefers point 1 (label_lr 0.3, init 0.9), test prefers point 0
    for r, val, test in zip(tune, (0.5, 0.9, 0.7, 0.6), (0.9, 0.1, 0.2, 0.3)):
        rd = RunDir(out.resolve() / "runs" / r.run_id)
        rd.write_summary({**rd.read_summary(), "final_val_acc": val, "final_test_acc": test})
    return tune


@pytest.mark.slow
def test_a_local_tuned_sweep_trains_the_cell_with_the_validation_winner(tuned, tmp_path, capsys):
    out = tmp_path / "out"
    tune = _run_tuning_then_rig_its_results(tuned, out)
    lines: list[str] = []
    plan = run_sweep(tuned, output_root=out, scale=SCALE, report=lines.append)
    assert plan.failed == [] and plan.counts() == {"done": len(plan.unique)}
    assert not set(plan.submitted) & {t.run_id for t in tune}  # the tuning runs were done: not trained again
    for run in (r for r in plan.unique.values() if r.stage in ("fold", "final")):
        rd = RunDir(out.resolve() / "runs" / run.run_id)
        config, summary = rd.read_config(), rd.read_summary()
        assert config["tune"]["chosen"] == [0.3, 0.9]  # the validation winner, not test's (0.3, 0.5)
        assert summary["tune_chosen"] == {"method.label_lr": 0.3, "method.init_target_prob": 0.9}
        assert summary["tune_runs"] == [t.run_id for t in tune]
        if run.stage == "fold":  # the fold runs learned labels with the winner
            assert config["method"]["label_lr"] == 0.3 and config["method"]["init_target_prob"] == 0.9
        assert RunDir.for_config(config).run_id == run.run_id  # the recorded config still names the same run
    # `repro tables` shows the chosen values in the cell and says how they were tuned
    sweeps = tmp_path / "sweeps"
    sweeps.mkdir()
    (sweeps / "table1.yaml").write_text(tuned.read_text().replace("name: tuned", "name: tuned\ntable: 1"))
    assert (
        main(
            [
                "tables",
                "--runs",
                str(out),
                "--sweeps-dir",
                str(sweeps),
                "--out",
                str(tmp_path / "tables"),
                "--tables",
                "1",
                *SCALE_ARGS,
            ]
        )
        == 0
    )
    frame = pd.read_csv(tmp_path / "tables" / "table1.csv")
    cell = frame[(frame["row"] == "Ours (Class)") & (frame["column"] == "Digits")].iloc[0]
    assert cell["tuned"] == "label_lr=0.3, init_target_prob=0.9" and "tuned: label_lr=0.3" in cell["ours"]
    markdown = (tmp_path / "tables" / "table1.md").read_text()
    assert "label_lr {0.3, 3} x init_target_prob {0.5, 0.9} on split=holdout split.fold=0" in markdown
    # a re-run plans nothing new
    again = run_sweep(tuned, output_root=out, scale=SCALE, report=lines.append)
    assert again.submitted == [] and "nothing to submit: every run is done" in lines
    assert lines[-1].startswith("tuning Ours (Class) / Digits: winner label_lr=0.3")  # then the cell's winner


def test_a_cell_whose_tuning_runs_failed_does_not_start_and_says_why(tuned, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    from repro.sweep.executors import job  # the local executor (one job at a time) calls job.run_planned
    from repro.sweep.sweep_folder import read_planned_config

    real = job.run_planned

    def fail_tuning(config_file, **kw):
        if read_planned_config(config_file)["sweep"]["stage"] == "tune":
            from repro.errors import UserError

            raise UserError("made to fail by the test")
        return real(config_file, **kw)

    def failed_status(config_file, **kw):  # leave a failed status, as a failing run does
        try:
            return fail_tuning(config_file, **kw)
        except Exception:
            rd = RunDir(out.resolve() / "runs" / Path(config_file).stem)
            rd.path.mkdir(parents=True, exist_ok=True)
            rd.write_status("failed", epoch=0, message="made to fail by the test")
            raise

    monkeypatch.setattr(job, "run_planned", failed_status)
    plan = run_sweep(tuned, output_root=out, scale=SCALE, report=lambda s: None)
    assert plan.submitted == [] and len(plan.failed) == len(plan.unique)  # nothing trained: all skipped
    assert main(["sweep", "status", str(tuned), "--output-root", str(out), *SCALE_ARGS]) == 1
    text = capsys.readouterr().out
    assert "waits for 4 failed run(s)" in text and "(tune)" in text
    result = build_table(
        1,
        load_sweep(tuned),
        collect_runs(out),
        pd.DataFrame(columns=["table", "row", "column", "mean", "std", "display", "ref", "group"]),
        output_root=out.resolve(),
        scale=SCALE,
    )
    assert "4 of its 4 tuning runs failed" in result.cells[("Ours (Class)", "Digits")].ours_text()


@pytest.mark.slow
def test_a_sweep_killed_during_tuning_resumes_and_trains_nothing_twice(tuned, tmp_path):
    out = (tmp_path / "out").resolve()
    tune_ids = [r.run_id for r in expand_sweep(load_sweep(tuned), output_root=out, scale=SCALE) if r.stage == "tune"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    # --jobs 1: the runs train in the command's own process, so the SIGKILL below stops every one of them at once
    proc = subprocess.Popen(
        [sys.executable, "-m", "repro.cli", "sweep", str(tuned), "--output-root", str(out), *SCALE_ARGS, "--jobs", "1"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 600  # a generous bound, not a speed assumption: we wait for the event
        while sum(RunDir(out / "runs" / rid).is_done() for rid in tune_ids) < 2:
            assert proc.poll() is None, "the sweep ended before two tuning runs were done"
            assert time.monotonic() < deadline, "two tuning runs never finished"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    done_before = {rid for rid in tune_ids if RunDir(out / "runs" / rid).is_done()}
    assert 2 <= len(done_before) < len(tune_ids) + 1
    stamps = {rid: (out / "runs" / rid / "summary.json").stat().st_mtime_ns for rid in done_before}
    plan = run_sweep(tuned, output_root=out, scale=SCALE, report=lambda s: None)
    assert plan.failed == [] and plan.counts() == {"done": len(plan.unique)}
    assert not set(plan.submitted) & done_before  # nothing trained twice
    assert all((out / "runs" / rid / "summary.json").stat().st_mtime_ns == t for rid, t in stamps.items())


@pytest.mark.parametrize(
    "change, message",
    [
        ("{method.label_lr: [0.3, 3], method.init_target_prob: [0.5, 0.9]}", None),
        ("{method.epsilon: [0.1, 0.2]}", "does not exist in the config tree"),
        ("{}", "grid is empty"),
        ("{method.label_lr: []}", "non-empty list"),
        ("{method.init_target_prob: [0.0, 0.5]}", "method.init_target_prob=0.0"),
        ("{method.label_lr: [0.3, 3]}\n      select: final_test_acc", "not a validation metric"),
        ("{method.label_lr: [0.3, 3]}\n      select: test_acc_at_best_val", "not a validation metric"),
        ("{method.label_lr: [0.3, 3]}\n      where: [split=full]", "leaves none"),  # labels need a meta set
    ],
)
def test_bad_tuning_stages_are_refused_at_plan_time(tuned, tmp_path, capsys, change, message):
    text = tuned.read_text().replace(
        "{method.label_lr: [0.3, 3], method.init_target_prob: [0.5, 0.9]}\n      select: final_val_acc", change
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    code = main(["sweep", str(bad), "--output-root", str(tmp_path / "out"), "--dry-run"])
    captured = capsys.readouterr()
    if message is None:
        assert code == 0 and "tuning stage" in captured.out and "tune " in captured.out
        return
    assert code == 2 and message in captured.err and "Traceback" not in captured.err
    assert not (tmp_path / "out").exists()


def test_a_tuning_stage_without_a_validation_set_is_refused(tmp_path, capsys):
    path = tmp_path / "plain.yaml"
    path.write_text(
        textwrap.dedent(TUNED)
        .replace("learn: [method=class_labels]", "overrides: [method=label_smoothing]")
        .replace(
            "grid: {method.label_lr: [0.3, 3], method.init_target_prob: [0.5, 0.9]}",
            "grid: {method.epsilon: [0.1, 0.2]}\n      where: [split=full]",
        )
    )
    assert main(["sweep", str(path), "--dry-run"]) == 2
    assert "no validation set to select on" in capsys.readouterr().err


def test_a_scale_tunes_on_the_first_seeds_and_the_sweep_folder_remembers_it(tmp_path):
    """The tuning stage's `tune_seeds` option (the quick demo's one-seed tuning): every tuning stage keeps its first N
    seeds, the tuned runs wait for those runs only, and selection.json keeps the setting for `repro sweep status` and
    the tables."""
    from dataclasses import replace

    from repro.errors import UserError
    from repro.sweep.spec.model import Scale
    from repro.sweep.sweep_folder import last_selection, remember_selection, sweep_dir

    path = write_tuned_sweep(tmp_path, "{method.label_lr: [0.3, 3]}")
    text = path.read_text()
    path.write_text(text.replace("      select: final_val_acc", "      select: final_val_acc\n      seeds: [0, 1]"))
    spec = load_sweep(path)
    both = expand_sweep(spec, output_root=tmp_path / "out", scale=SCALE)
    first = expand_sweep(spec, output_root=tmp_path / "out", scale=replace(SCALE, stage_options={"tune_seeds": 1}))
    tune_both = [r for r in both if r.stage == "tune"]
    tune_first = [r.run_id for r in first if r.stage == "tune"]
    assert len(tune_both) == 4 and tune_first == [r.run_id for r in tune_both if r.seed == 0]
    for run in first:
        if run.stage != "tune":
            assert {d for d in run.depends_on if d in {r.run_id for r in tune_both}} <= set(tune_first)
    scale = replace(SCALE, stage_options={"tune_seeds": 1})
    remember_selection(sweep_dir(tmp_path / "out", spec.name), spec, scale, [])
    assert Scale(**last_selection(tmp_path / "out", spec.name)["scale"]) == scale
    with pytest.raises(UserError, match="tune_seeds=0"):
        scaled(cell_tune(spec, "Ours (Class)", "Digits"), replace(SCALE, stage_options={"tune_seeds": 0}))


def test_a_selection_written_when_the_scale_held_the_tuning_options_still_plans_its_runs(tmp_path):
    """selection.json in an output root made before the tuning stage declared its options (`tune_strategy` and
    `tune_seeds` were keys of the scale): `repro sweep status` reads them as the stage's options and plans the
    runs that sweep planned (successive halving's rung jobs, the first seed's tuning runs)."""
    import json
    from dataclasses import replace

    from repro.sweep.status import sweep_status
    from repro.sweep.sweep_folder import sweep_dir

    path = write_tuned_sweep(tmp_path, "{method.label_lr: [0.3, 3]}")
    text = path.read_text()
    path.write_text(text.replace("      select: final_val_acc", "      select: final_val_acc\n      seeds: [0, 1]"))
    spec, out = load_sweep(path), tmp_path / "out"
    scale = replace(SCALE, stage_options={"tune_strategy": "halving", "tune_seeds": 1})
    planned = [r.run_id for r in expand_sweep(spec, output_root=out, scale=scale)]
    assert planned != [r.run_id for r in expand_sweep(spec, output_root=out, scale=SCALE)]
    old = {"epochs": SCALE.epochs, "subset": SCALE.subset, "test_subset": SCALE.test_subset}
    old |= {"tune_strategy": "halving", "tune_seeds": 1, "stage_options": {}}
    selection = {"rows": spec.rows, "columns": spec.columns, "seeds": spec.seeds, "scale": old, "extra_overrides": []}
    sweep_dir(out, spec.name).mkdir(parents=True)
    (sweep_dir(out, spec.name) / "selection.json").write_text(json.dumps(selection))
    plan = sweep_status(path, output_root=out)
    assert plan.scale == scale and [r.run_id for r in plan.runs] == planned
