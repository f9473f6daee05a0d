"""Teachers' smoothing in distillation under noise (sweeps/demo/table16.yaml, analysis/figures/teacher_smoothing.py):
the digits sweep plans students of every teacher epsilon (negative ones from label smearing) and of corrected
teachers with T tuned; a small local version runs end to end on noisy digits and the figure draws student accuracy
against teacher epsilon from its runs."""

from __future__ import annotations

import textwrap

import matplotlib.image
import pandas as pd
import pytest

from analysis.collect import collect_runs
from analysis.figures import teacher_smoothing
from analysis.figures.make import figure_runs
from analysis.figures.teacher_smoothing import pairs, teacher_kind, temperature_labels
from presets import QUIET
from repo_paths import REPO
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.run import run_sweep
from repro.sweep.spec.model import Scale
from repro.sweep.sweep_file import load_sweep

TEACHERS = """
    name: teachers
    table: 12
    metric: final_test_acc
    seeds: [0]
    common: [data=digits, model=smallcnn, split=noisy, split.meta_fraction=0.1, noise=uniform]
    columns:
      Digits/40%: [noise.fraction=0.4]
    rows:
      One-hot: [method=baseline]
      Label Smoothing (eps=0.6): [method=label_smoothing, method.epsilon=0.6]
      Negative smoothing (eps=-0.2): [method=label_smearing, method.smoothing_epsilon=-0.2]
      Backward (known T): [method=loss_correction, method.correction=backward]
"""
STUDENTS = """
    name: students
    table: 16
    metric: final_test_acc
    seeds: [0]
    common: [data=digits, model=tinycnn, split=noisy, split.meta_fraction=0.1, split.full_train=true, noise=uniform]
    tune: {grid: {method.temperature: [0.0, 2.0]}, where: [split.full_train=false]}
    columns:
      Digits/40%: [noise.fraction=0.4]
    rows:
      Teacher eps=-0.2:
        overrides: [method=distillation]
        teacher: {sweep: teachers.yaml, row: Negative smoothing (eps=-0.2)}
      Teacher eps=0: {overrides: [method=distillation], teacher: {sweep: teachers.yaml, row: One-hot}}
      Teacher eps=0.6:
        overrides: [method=distillation]
        teacher: {sweep: teachers.yaml, row: Label Smoothing (eps=0.6)}
      Backward-corrected teacher:
        overrides: [method=distillation]
        teacher: {sweep: teachers.yaml, row: Backward (known T)}
"""


@pytest.mark.slow
def test_the_digits_sweep_plans_a_tuned_student_per_teacher_epsilon():
    runs = expand_sweep(load_sweep(REPO / "sweeps" / "demo" / "table16.yaml"), output_root="out")
    students = [r for r in runs if r.stage == "single"]
    assert len(students) == 10 * 3 and all(r.config["method"]["name"] == "distillation" for r in students)
    assert all(len(r.depends_on) == 1 + 3 for r in students)  # the teacher and the tuning runs (T in {0, 2, 4})
    teachers = {r.run_id: r for r in runs if r.stage == "teacher"}
    kinds = {
        teacher_kind({f"method.{k}": v for k, v in teachers[s.config["method"]["teacher"]].config["method"].items()})
        for s in students
    }
    assert kinds == {-0.5, -0.2, 0.0, 0.1, 0.2, 0.4, 0.6, 0.8, "forward", "backward"}


@pytest.mark.slow
def test_a_small_teacher_smoothing_sweep_runs_on_noisy_digits_and_draws(tmp_path):
    (tmp_path / "teachers.yaml").write_text(textwrap.dedent(TEACHERS))
    (tmp_path / "students.yaml").write_text(textwrap.dedent(STUDENTS))
    out = tmp_path / "out"
    plan = run_sweep(
        tmp_path / "students.yaml",
        output_root=out,
        scale=Scale(epochs=1, subset=300, test_subset=150),
        extra_overrides=QUIET,
        report=lambda line: None,
    )
    assert plan.failed == [] and plan.counts() == {"done": len(plan.unique)}
    frame = collect_runs(out)
    points = pairs(frame, frame)
    assert sorted(points["kind"].map(str)) == sorted(["-0.2", "0.0", "0.6", "backward"])
    teachers = frame[frame["method.name"] != "distillation"].set_index("run_id")
    students = frame[(frame["method.name"] == "distillation") & frame["tune.keys"].map(len).astype(bool)]
    for rec in students.to_dict("records"):  # each point: the tuned student and its own teacher's accuracy
        row = points[(points["student"] == 100 * rec["final_test_acc"])]
        assert (row["teacher"] == 100 * teachers.loc[rec["method.teacher"], "final_test_acc"]).any()
        assert (row["temperature"] == float(rec["method.temperature"])).all()  # the tuned one, labelled on the figure
    assert set(points["temperature"]) <= {0.0, 2.0}  # the tuning grid's values
    logged: list[str] = []
    png = tmp_path / "figure.png"
    chosen = teacher_smoothing.choose(figure_runs(out, sweeps_dir=tmp_path))  # table 16: students.yaml
    assert sorted(chosen.runs["students"]) == sorted(students["run_id"])
    png.write_bytes(teacher_smoothing.draw(chosen, logged.append))
    assert "teacher eps [-0.2, 0.0, 0.6]" in logged[0] and "backward" in logged[0]
    image = matplotlib.image.imread(png)
    assert image.shape[0] > 300 and image[..., :3].std() > 0.05


def test_each_point_is_labelled_with_its_students_temperature_or_a_question_mark_where_seeds_differ():
    points = pd.DataFrame(
        {
            "eps": [0.0, 0.0, 0.4, 0.4, 0.8],
            "temperature": [2.0, 2.0, 0.0, 4.0, float("nan")],
        }
    )
    assert temperature_labels(points, "eps") == {0.0: "temp=2", 0.4: "temp=?"}
