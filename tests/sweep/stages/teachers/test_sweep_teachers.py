"""Students in sweeps (Tables 4-5): the planner finds the teacher of every student in the output root (done: used;
queued: afterok; missing: planned and submitted too), plans the temperature's tuning stage and the student, and a
local sweep runs teacher -> tuning runs -> student to the end with the chosen temperature in the student's summary."""

from __future__ import annotations

import textwrap
from functools import partial
from pathlib import Path

import pandas as pd
import pytest

from analysis.collect import collect_runs
from analysis.tables.build import build_table
from presets import QUIET
from repo_paths import REPO
from repro.errors import UserError
from repro.runs.rundir import RunDir
from repro.sweep.executors.slurm import cluster, submit
from repro.sweep.executors.slurm.job_states import job_states
from repro.sweep.executors.slurm.registry import JobRecord, Registry
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.plan import make_plan
from repro.sweep.run import run_sweep
from repro.sweep.spec.model import Scale
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_folder import sweep_dir

TEACHERS = """
    name: teachers
    metric: final_test_acc
    seeds: [0]
    common: [split=full, split.folds=2, data=digits, model=smallcnn]
    columns:
      Digits: []
    rows:
      Baseline: [method=baseline]
      Ours (Instance):
        learn: [method=instance_labels, method.label_lr=200]
"""
STUDENTS = """
    name: students
    metric: final_test_acc
    seeds: [0]
    common: [split=full, data=digits, model=tinycnn]
    columns:
      T=1: [method.temperature=1.0]
      Searched: {tune: {grid: {method.temperature: {start: 0, stop: 2, step: 1}}}}
    rows:
      Distilled:
        overrides: [method=distillation]
        teacher: {sweep: teachers.yaml, row: Baseline, column: Digits}
      Labels:
        overrides: [method=transferred_labels]
        teacher: {sweep: teachers.yaml, row: Ours (Instance), column: Digits}
"""
SCALE = Scale(epochs=1, subset=300, test_subset=150)


@pytest.fixture
def sweeps(tmp_path) -> Path:
    (tmp_path / "teachers.yaml").write_text(textwrap.dedent(TEACHERS))
    (tmp_path / "students.yaml").write_text(textwrap.dedent(STUDENTS))
    return tmp_path / "students.yaml"


def test_expansion_plans_teacher_tuning_runs_and_student(sweeps, tmp_path):
    runs = expand_sweep(load_sweep(sweeps), output_root=tmp_path / "out", scale=SCALE)
    by_id = {r.run_id: r for r in runs}
    first = {}
    for i, r in enumerate(runs):
        first.setdefault(r.run_id, i)
    teachers = expand_sweep(load_sweep(sweeps.parent / "teachers.yaml"), output_root=tmp_path / "out", scale=SCALE)
    reported = {r.row: r.run_id for r in teachers if r.stage in ("single", "final")}
    for r in runs:
        if r.stage in ("teacher", "teacher fold", "teacher tune"):
            assert r.run_id in {t.run_id for t in teachers}  # exactly the teacher table's runs, same ids
            continue
        option = "teacher" if r.row == "Distilled" else "source"
        want = reported["Baseline" if r.row == "Distilled" else "Ours (Instance)"]
        assert r.config["method"][option] == want and want in r.depends_on
        assert all(first[d] < first[r.run_id] for d in r.depends_on)  # planned after what it depends on
        if r.column == "T=1":
            assert r.stage == "single" and r.config["method"]["temperature"] == 1.0
            assert r.config["tune"]["keys"] == []
        elif r.stage == "tune":  # a tuning run: the held-out split, fold 0, one temperature, nothing tuned itself
            assert r.config["split"]["full_train"] is False and r.config["split"]["fold"] == 0
            assert r.config["tune"]["keys"] == [] and r.config["sweep"]["stage"] == "tune"
        else:
            assert r.stage == "single" and r.config["tune"]["keys"] == ["method.temperature"]
            tuned = [by_id[d] for d in r.depends_on if by_id[d].stage == "tune"]
            assert sorted(t.config["method"]["temperature"] for t in tuned) == [0.0, 1.0, 2.0]
            assert [e["run"] for e in r.config["tune"]["runs"]] == [t.run_id for t in tuned]
    stages = [r.stage for r in by_id.values()]
    # 1 baseline + 2 folds + 1 replay teacher; per row 2 single + 3 tuning runs
    assert stages.count("teacher") == 2 and stages.count("teacher fold") == 2
    assert stages.count("tune") == 6 and stages.count("final") == 0 and stages.count("single") == 4


def _done(out: Path, run) -> None:
    rd = RunDir(out / "runs" / run.run_id)
    rd.path.mkdir(parents=True)
    rd.write_config(run.config)
    rd.write_summary({"final_test_acc": 0.9})


@pytest.mark.parametrize("teacher_state", ["done", "queued", "missing"])
def test_teachers_done_queued_or_missing_become_used_afterok_or_submitted(sweeps, tmp_path, monkeypatch, teacher_state):
    out = tmp_path / "out"
    spec = load_sweep(sweeps).select(rows=["Distilled"])
    runs = expand_sweep(spec, output_root=out, scale=SCALE)
    teacher = next(r for r in runs if r.stage == "teacher")
    if teacher_state == "done":
        _done(out, teacher)
    elif teacher_state == "queued":  # submitted by the teachers' own sweep, still in the queue
        registry = Registry(sweep_dir(out, "teachers") / "jobs.json")
        registry.add(JobRecord(run_id=teacher.run_id, job_id="41_0", stage="single"))
        registry.save()
    monkeypatch.setattr(cluster, "queued_jobs", lambda: {"41_0": "PENDING"})
    monkeypatch.setattr(cluster, "finished_states", lambda ids: {})
    plan = make_plan(spec, runs, out, job_states=partial(job_states, out))
    want = {"done": "done", "queued": "pending", "missing": "new"}[teacher_state]
    assert plan.status[teacher.run_id].state == want
    assert (teacher in plan.to_submit) == (teacher_state == "missing")  # nothing is trained twice

    arrays: list[tuple[list[str], tuple[str, ...]]] = []

    def fake_array(runs_, after, target, job_of):
        arrays.append(([r.stage for r in runs_], after))
        for i, r in enumerate(runs_):
            job_of[r.run_id] = f"{len(arrays)}00_{i}"

    monkeypatch.setattr(submit, "_submit_array", fake_array)
    submitted = submit.submit_runs(
        plan.to_submit,
        done=plan.done,
        queued=plan.queued,
        configs={},
        name=spec.name,
        output_root=out,
        profile=None,
        report=lambda s: None,
    )
    assert len(submitted) == len(plan.to_submit)
    if teacher_state == "done":  # the tuned student waits for nothing but its own tuning runs
        assert arrays == [(["single", "tune", "tune", "tune"], ()), (["single"], ("100_1", "100_2", "100_3"))]
    elif teacher_state == "queued":  # single + tuning wait for the teacher's queued job, the tuned one for both
        assert arrays == [
            (["single", "tune", "tune", "tune"], ("41_0",)),
            (["single"], ("100_1", "100_2", "100_3", "41_0")),
        ]
    else:  # the teacher is submitted first; the students wait for it, the tuned one for its tuning runs too
        assert arrays == [
            (["teacher"], ()),
            (["single", "tune", "tune", "tune"], ("100_0",)),
            (["single"], ("100_0", "200_1", "200_2", "200_3")),
        ]


@pytest.mark.slow
def test_a_local_sweep_runs_teachers_then_tuning_then_students(sweeps, tmp_path):
    out = tmp_path / "out"
    lines: list[str] = []
    plan = run_sweep(sweeps, output_root=out, scale=SCALE, extra_overrides=QUIET, report=lines.append)
    assert plan.failed == [] and plan.counts() == {"done": len(plan.unique)}
    started = [next(r for r in plan.unique.values() if r.run_id in line) for line in lines if "training" in line]
    for i, run in enumerate(started):  # every run started after the runs it depends on
        assert all(d in {r.run_id for r in started[:i]} for d in run.depends_on)
    tuned_runs = [r for r in plan.unique.values() if r.stage == "single" and r.column == "Searched"]
    assert len(tuned_runs) == 2
    for run in tuned_runs:
        summary = RunDir(out / "runs" / run.run_id).read_summary()
        val = {}
        for dep in run.depends_on:
            if plan.unique[dep].stage == "tune":
                t = plan.unique[dep].config["method"]["temperature"]
                val[t] = RunDir(out / "runs" / dep).read_summary()["final_val_acc"]
        assert sorted(val) == [0.0, 1.0, 2.0]
        best = min(val, key=lambda t: (-val[t], t))  # the validation winner; ties: the grid's first (smaller) T
        assert summary["temperature"] == best and summary["tune_chosen"] == {"method.temperature": best}
        assert RunDir(out / "runs" / run.run_id).read_config()["method"]["temperature"] == best
    # `repro tables` fills every cell, and shows the chosen temperature of the tuned ones
    frame = collect_runs(out)
    empty = pd.DataFrame(columns=["table", "row", "column", "mean", "std", "display", "ref", "group"])
    result = build_table(4, load_sweep(sweeps), frame, empty, output_root=out, scale=SCALE)
    assert len(result.cells) == 4 and all(c.n == c.planned == 1 for c in result.cells.values())
    chosen = dict(zip(frame["run_id"], frame["tuned"]))
    for (row, column), cell in result.cells.items():
        final = next(r for r in plan.runs if (r.row, r.column) == (row, column) and r.stage in ("single", "final"))
        assert cell.tuned == ([chosen[final.run_id]] if column == "Searched" else [])
        assert ("; tuned: temperature=" in cell.ours_text()) == (column == "Searched")
    again = run_sweep(sweeps, output_root=out, scale=SCALE, extra_overrides=QUIET, report=lines.append)
    assert again.submitted == [] and "nothing to submit: every run is done" in lines
    assert lines[-1].startswith("tuning ")  # then each tuned cell's winner (repro/sweep/stages/tune/tune_report.py)


def test_bad_teacher_references_are_refused(sweeps, tmp_path):
    text = sweeps.read_text()
    cases = {
        "row: Baseline, column: Digits}": ("row: Nope, column: Digits}", "names no row"),
        "sweep: teachers.yaml, row: Baseline": ("sweep: gone.yaml, row: Baseline", "names no file"),
        "{sweep: teachers.yaml, row: Baseline, column: Digits}": (
            "{sweep: teachers.yaml}",
            r"teacher\.row is missing",
        ),
    }
    for old, (new, message) in cases.items():
        bad = tmp_path / "bad.yaml"
        bad.write_text(text.replace(old, new, 1))
        with pytest.raises(UserError, match=message):  # refused when the sweep is planned (expanded)
            expand_sweep(load_sweep(bad), output_root=tmp_path)
    plain = text.replace("overrides: [method=distillation]", "overrides: [method=baseline]", 1)
    plain = "\n".join(line for line in plain.splitlines() if "Searched:" not in line).replace(
        "T=1: [method.temperature=1.0]", "T=1: []"
    )
    bad.write_text(plain)
    with pytest.raises(UserError, match="learns from no other run"):
        expand_sweep(load_sweep(bad), output_root=tmp_path)


@pytest.mark.slow
def test_the_paper_tables_4_and_5_plan_every_row():
    for n in (4, 5):
        spec = load_sweep(REPO / "sweeps" / f"table{n}.yaml")
        assert spec.needs == {}
        runs = expand_sweep(spec, output_root="out")
        assert {r.row for r in runs} == set(spec.rows)
        tuned = [r for r in runs if r.stage == "single" and r.config["tune"]["keys"]]
        tuning = {r.run_id for r in runs if r.stage == "tune"}
        assert tuned and all(len([d for d in f.depends_on if d in tuning]) == 41 for f in tuned)
        assert all(f.config["tune"]["keys"] == ["method.temperature"] for f in tuned)
        assert all(r.config["data"]["name"] == "cifar100" for r in runs)
