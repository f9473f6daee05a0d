"""The noisy comparisons beyond the paper: sweeps/table12.yaml (label smoothing vs loss correction vs
instance labels under noise) and table13.yaml (distillation from noisy teachers) plan on CIFAR; a teacher reference
without `sweep` / `column` names a row of the same file in the student's column; a small local sweep of both on
noisy digits runs end to end, `repro tables` renders ours only (no paper column) and the epsilon figure draws."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.image
import pandas as pd
import pytest

from analysis import demo
from analysis.collect import collect_runs
from analysis.figures import smoothing_noise
from analysis.figures.make import figure_runs
from analysis.figures.smoothing_noise import curve, noisy_runs, reported, tuned
from analysis.tables.build import build_table
from analysis.tables.render import render_markdown
from presets import QUIET
from repo_paths import REPO
from repro.errors import UserError
from repro.runs.rundir import RunDir
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.run import run_sweep
from repro.sweep.spec.model import Scale
from repro.sweep.sweep_file import load_sweep

EMPTY_PAPER = pd.DataFrame(columns=["table", "row", "column", "mean", "std", "display", "ref", "group"])


def _by(runs, **where):
    return [r for r in runs if all(getattr(r, k) == v for k, v in where.items())]


def _plan(name: str) -> list:
    return expand_sweep(load_sweep(REPO / "sweeps" / name), output_root="out")


@pytest.mark.slow
def test_the_cifar_sweeps_plan_every_row_with_estimators_and_teachers_of_the_same_cell():
    smoothing = _plan("table12.yaml")
    assert {r.config["data"]["name"] for r in smoothing} == {"cifar10", "cifar100"}
    one_hot = {(r.column, r.seed): r.run_id for r in _by(smoothing, row="One-hot", stage="single")}
    assert len(one_hot) == 6 * 3
    for row in (
        "Forward (estimated T)",
        "Backward (estimated T)",
        "Forward (estimated T, best val)",
        "Backward (estimated T, best val)",
    ):
        runs = _by(smoothing, row=row, stage="single")
        assert len(runs) == 18
        for r in runs:  # the anchor-point estimate of the one-hot run of the same column and seed
            assert r.depends_on == (one_hot[(r.column, r.seed)],)
            assert r.config["method"]["estimator"] == one_hot[(r.column, r.seed)]
            assert r.config["method"]["estimate_at"] == ("best_val" if "best val" in row else "final")
    fixed = {
        (r.column, r.config["method"]["epsilon"], r.seed): r.run_id
        for r in smoothing
        if r.row.startswith("Label Smoothing (eps=") and r.seed in (0, 1)
    }
    assert {eps for _, eps, _ in fixed} == {0.1, 0.2, 0.4, 0.6, 0.8}
    # the tuned row: epsilon picked on the clean meta set (the runs' own noisy split), from tuning runs that are
    # the fixed-epsilon rows' seed-0 and seed-1 runs (the same ids: trained once); every seed waits for all ten
    tuned = _by(smoothing, row="Label Smoothing (tuned)", stage="single")
    assert len(tuned) == 6 * 3
    for r in tuned:
        tune = r.config["tune"]
        assert tune["keys"] == ["method.epsilon"] and tune["select"] == "final_val_acc"
        assert [e["values"][0] for e in tune["runs"]] == [0.1, 0.1, 0.2, 0.2, 0.4, 0.4, 0.6, 0.6, 0.8, 0.8]
        expected = [fixed[(r.column, eps, seed)] for eps in (0.1, 0.2, 0.4, 0.6, 0.8) for seed in (0, 1)]
        assert [e["run"] for e in tune["runs"]] == expected
        assert set(r.depends_on) == {e["run"] for e in tune["runs"]}
    for r in _by(smoothing, row="Label Smoothing (tuned)", stage="tune"):
        assert r.config["split"]["meta_fraction"] == 0.02 and not r.config["split"]["full_train"] and r.seed in (0, 1)
    # the 40% / 60% instance-label cells, tuning runs included, are Table 6's runs (tuned alike, trained once)
    table6 = {r.run_id for r in _plan("table6.yaml")}
    ours = _by(smoothing, row="Ours (Instance labels)")
    shared = [r for r in ours if r.config["noise"]["fraction"] in (0.4, 0.6)]
    # 4 cells x (8 label lrs x 4 init probs tuning runs on seeds 0 and 1 + 3 seeds)
    assert len(shared) == 4 * (8 * 4 * 2 + 3) and all(r.run_id in table6 for r in shared)
    assert not any(r.run_id in table6 for r in ours if r.config["noise"]["fraction"] == 0.2)

    students = _plan("table13.yaml")
    reported = {(r.row, r.column, r.seed): r.run_id for r in smoothing if r.stage == "single"}
    teacher_rows = {
        "One-hot teacher": "One-hot",
        "Label Smoothing teacher": "Label Smoothing (tuned)",
        "Instance-label teacher (Model)": "Ours (Instance labels)",
        "Instance-label teacher (Labels)": "Ours (Instance labels)",
    }
    singles = _by(students, stage="single")
    assert len(singles) == 4 * 6 * 3
    tuning = {r.run_id: r for r in _by(students, stage="tune")}
    for student in singles:
        teacher = reported[(teacher_rows[student.row], student.column, student.seed)]
        option = "source" if "Labels" in student.row else "teacher"
        assert student.config["method"][option] == teacher and student.depends_on[0] == teacher
        assert len(student.depends_on) == 1 + 41  # the paper's grid [0, 10] step 0.25, as in Table 4
        assert student.config["tune"]["keys"] == ["method.temperature"]
        assert student.config["split"]["full_train"] and student.config["noise"]["fraction"] > 0
        for rid in student.depends_on[1:]:  # tuned on the clean meta set, with seed 0's teacher of the column
            run = tuning[rid]
            assert run.config["split"]["meta_fraction"] == 0.02 and not run.config["split"]["full_train"]
            assert run.config["method"][option] == reported[(teacher_rows[student.row], student.column, 0)]


def test_a_teacher_reference_must_name_a_row(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        textwrap.dedent("""
        metric: final_test_acc
        seeds: [0]
        common: [split=noisy, noise=uniform]
        columns:
          A: [noise.fraction=0.4]
        rows:
          One-hot: [method=baseline]
          Est:
            overrides: [method=loss_correction, method.transition=estimated]
            teacher: {column: A}
    """)
    )
    with pytest.raises(UserError, match=r"rows\.Est\.teacher\.row is missing"):
        load_sweep(path)
    path.write_text(path.read_text().replace("{column: A}", "{row: Nope}"))
    with pytest.raises(UserError, match="names no row"):
        expand_sweep(load_sweep(path), output_root=tmp_path)


def test_the_extra_demo_tables_run_only_with_extra():
    size = demo.demo_size(quick=True)
    assert not set(demo.EXTRA_TABLES) & set(demo.demo_specs(size))
    assert set(demo.EXTRA_TABLES) <= set(demo.demo_specs(size, extra=True))


SMOOTHING = """
    name: noisy-smoothing
    table: 12
    metric: final_test_acc
    seeds: [0]
    common: [data=digits, model=smallcnn, split=noisy, split.meta_fraction=0.1, noise=uniform]
    columns:
      Digits/40%: [noise.fraction=0.4]
    rows:
      One-hot: [method=baseline]
      Label Smoothing (tuned):
        overrides: [method=label_smoothing]
        tune: {grid: {method.epsilon: [0.2, 0.6]}, where: []}
      Label Smoothing (eps=0.2): [method=label_smoothing, method.epsilon=0.2]
      Label Smoothing (eps=0.6): [method=label_smoothing, method.epsilon=0.6]
      Forward (known T): [method=loss_correction]
      Backward (estimated T):
        overrides: [method=loss_correction, method.correction=backward, method.transition=estimated]
        teacher: {row: One-hot}
      Ours (Instance labels): [method=instance_labels, method.label_lr=200]
"""
DISTILL = """
    name: noisy-distill
    table: 13
    metric: final_test_acc
    seeds: [0]
    common: [data=digits, model=tinycnn, split=noisy, split.meta_fraction=0.1, split.full_train=true, noise=uniform]
    tune: {grid: {method.temperature: [0.0, 2.0]}, where: [split.full_train=false]}
    columns:
      Digits/40%: [noise.fraction=0.4]
    rows:
      Label Smoothing teacher:
        overrides: [method=distillation]
        teacher: {sweep: smoothing.yaml, row: Label Smoothing (tuned)}
      Instance-label teacher (Labels):
        overrides: [method=transferred_labels]
        teacher: {sweep: smoothing.yaml, row: Ours (Instance labels)}
"""
SCALE = Scale(epochs=1, subset=300, test_subset=150)


@pytest.mark.slow
def test_both_sweeps_run_on_noisy_digits_and_fill_ours_only_tables_and_the_figure(tmp_path):
    (tmp_path / "smoothing.yaml").write_text(textwrap.dedent(SMOOTHING))
    (tmp_path / "distill.yaml").write_text(textwrap.dedent(DISTILL))
    out = tmp_path / "out"
    for name in ("smoothing.yaml", "distill.yaml"):
        plan = run_sweep(tmp_path / name, output_root=out, scale=SCALE, extra_overrides=QUIET, report=lambda line: None)
        assert plan.failed == [] and plan.counts() == {"done": len(plan.unique)}
    frame = collect_runs(out)
    for name, number, cells in (("smoothing.yaml", 12, 7), ("distill.yaml", 13, 2)):
        result = build_table(number, load_sweep(tmp_path / name), frame, EMPTY_PAPER, output_root=out, scale=SCALE)
        assert len(result.cells) == cells and all(c.n == c.planned == 1 for c in result.cells.values())
        md = render_markdown(result)
        assert f"# Table {number}: ours (not a paper table" in md and "paper |" not in md and "Δ" not in md
        assert "| Method | Digits/40% |" in md
    estimated = frame[frame["method.transition"] == "estimated"].iloc[0]
    assert RunDir(Path(estimated["path"])).read_summary()["estimator_run"] == estimated["method.estimator"]

    runs = noisy_runs(frame)
    points = curve(runs[runs["model.name"] == "smallcnn"])  # the tuned run is a reference line, not a point
    assert list(points["epsilon"]) == [0.0, 0.2, 0.6] and (points["n"] == 1).all()
    ls_tuned = frame[(frame["method.name"] == "label_smoothing") & tuned(frame)]
    assert len(ls_tuned) == 1 and ls_tuned.iloc[0]["method.epsilon"] in (0.2, 0.6)
    logged: list[str] = []
    png = tmp_path / "figure.png"
    png.write_bytes(smoothing_noise.draw(smoothing_noise.choose(figure_runs(out, sweeps_dir=tmp_path)), logged.append))
    image = matplotlib.image.imread(png)
    assert image.shape[0] > 100 and image[..., :3].std() > 0.05
    assert any("forward, estimated T" in line for line in logged)  # not in the sweep: its line is left out


def test_the_figure_draws_a_tuned_method_from_its_tuned_runs_not_its_tuning_runs():
    """A tuned row's tuning runs (one per grid point, `tune.keys` empty) are not results: a reference line of a tuned
    method averages its tuned runs only; an untuned method's line all of its runs; the curve leaves tuned runs out."""
    keys = ("method.epsilon",)
    runs = pd.DataFrame(
        {
            "method.name": ["instance_labels"] * 3 + ["loss_correction"] * 2 + ["label_smoothing"] * 3,
            "tune.keys": [(), (), ("method.label_lr",), (), (), (), (), keys],
            "method.epsilon": [None] * 5 + [0.2, 0.6, 0.6],
            "final_test_acc": [0.1, 0.2, 0.9, 0.5, 0.7, 0.3, 0.4, 0.8],
        }
    )
    ours = reported(runs[runs["method.name"] == "instance_labels"])
    assert list(ours["final_test_acc"]) == [0.9]
    assert list(reported(runs[runs["method.name"] == "loss_correction"])["final_test_acc"]) == [0.5, 0.7]
    points = curve(runs)
    assert list(points["epsilon"]) == [0.2, 0.6] and list(points["n"]) == [1, 1]
    assert points["mean"].round(6).tolist() == [30.0, 40.0]
