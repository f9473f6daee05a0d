"""Tuning that knows its own noise: the winner's margin over the runner-up and its standard error in the tuning
report, a warning when the margin is within it (repro/sweep/stages/tune/tune_margin.py); the noisy tables tune on two
seeds;
Table 10 runs at Table 6's tuned point, a dependency on Table 6's own tuning runs
(repro/sweep/stages/tune_from/tune_from_runs.py)."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest

from repo_paths import REPO
from repro.runs.rundir import RunDir
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.stages.tune.tune_report import cell_tunings, render_tunings
from repro.sweep.stages.tune.tune_spec import cell_tune
from repro.sweep.stages.tune.tuning import apply
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_plan import plan_sweep

NOISY_TUNED = """
    name: noisy-tuned
    metric: final_test_acc
    seeds: [0, 1, 2]
    common: [data=digits, model=smallcnn, split=noisy, noise=uniform, noise.fraction=0.4]
    columns:
      Digits/40%: []
    rows:
      Ours:
        overrides: [method=instance_labels]
        tune: {grid: {method.label_lr: [50, 200]}, where: [], seeds: [0, 1]}
"""


def _finish(out: Path, run_id: str, acc: float, images: int = 1000) -> None:
    rd = RunDir(out / "runs" / run_id)
    rd.path.mkdir(parents=True, exist_ok=True)
    rd.write_summary({"final_val_acc": acc, "clean_labels_used": images})


def _plan(tmp_path: Path, scores: dict[float, list[float]]):
    path = tmp_path / "noisy.yaml"
    path.write_text(textwrap.dedent(NOISY_TUNED))
    out = tmp_path / "out"
    plan = plan_sweep(load_sweep(path), output_root=out)
    for run in plan.unique.values():
        if run.stage == "tune":
            lr = run.config["method"]["label_lr"]
            _finish(out, run.run_id, scores[lr][run.seed])
    return plan


def test_the_report_prints_the_margin_and_its_standard_error(tmp_path):
    # 200 wins by 4 points; each point's two seeds agree to 0.2: the binomial error on 1,000 images decides
    (tuning,) = cell_tunings(_plan(tmp_path, {50: [0.70, 0.702], 200: [0.74, 0.742]}))
    binomial = [math.sqrt(p * (1 - p) / 1000) / math.sqrt(2) for p in (0.741, 0.701)]
    se = 100 * math.sqrt(sum(b * b for b in binomial))
    assert tuning.winner == "label_lr=200"
    assert f"margin 4.00 points over the runner-up label_lr=50, standard error {se:.2f}" in tuning.margin
    assert "(2 tuning seed(s), 1,000 validation images)" in tuning.margin
    assert not tuning.warnings and "margin 4.00 points" in render_tunings([tuning])


def test_a_margin_within_one_standard_error_is_warned_about(tmp_path):
    # a 1-point margin, seeds 3 points apart: the seeds' spread is the larger error
    (tuning,) = cell_tunings(_plan(tmp_path, {50: [0.70, 0.73], 200: [0.71, 0.74]}))
    spread = 100 * 0.03 / math.sqrt(2) / math.sqrt(2)  # stdev of two values 3 points apart, over sqrt(2) seeds
    assert f"standard error {math.sqrt(2) * spread:.2f}" in tuning.margin
    assert any("within one standard error" in w and "tune.seeds" in w for w in tuning.warnings)
    assert "WARNING: the winner's margin over the runner-up (1.00 points)" in render_tunings([tuning])


def test_the_tuned_run_records_the_margin_warning_in_its_summary(tmp_path):
    from repro.sweep.stages.tune.tuning import summary_fields

    plan = _plan(tmp_path, {50: [0.70, 0.73], 200: [0.71, 0.74]})
    tuned = next(r for r in plan.unique.values() if r.stage == "single")
    assert "within one standard error" in summary_fields(apply(tuned.config))["tune_warning"]


@pytest.mark.parametrize("table", ["table6.yaml", "table7.yaml", "table12.yaml", "cifar_n.yaml"])
def test_the_noisy_tables_tune_on_two_seeds(table):
    spec = load_sweep(REPO / "sweeps" / table)
    tunes = {cell_tune(spec, r, c) for r in spec.rows if r not in spec.needs for c in spec.row_columns(r)} - {None}
    assert tunes and all(t.seeds == (0, 1) and t.where == () for t in tunes)


def test_table10_runs_at_table6s_tuned_point(tmp_path):
    out = tmp_path / "out"
    t6 = expand_sweep(load_sweep(REPO / "sweeps" / "table6.yaml"), output_root=out)
    t10 = expand_sweep(load_sweep(REPO / "sweeps" / "table10.yaml"), output_root=out)
    ours6 = {r.column: r for r in t6 if r.row == "Ours (Instance labels)" and r.stage == "single" and r.seed == 0}
    tuning6 = {r.run_id for r in t6 if r.row == "Ours (Instance labels)" and r.stage == "tune"}
    for run in (r for r in t10 if r.stage == "single"):
        assert run.config["tune"] == ours6[run.column].config["tune"]  # the same tuning runs, keys and selection
        assert set(run.depends_on) <= tuning6 and run.depends_on  # and it waits for them
    assert {r.run_id for r in t10 if r.stage == "tune"} <= tuning6  # planned once, for both tables
    # the default curriculum row is Table 6's Ours run itself
    assert {r.run_id for r in t10 if r.stage == "single"} & {r.run_id for r in ours6.values()}
    # when Table 6's tuning runs are done, Table 10's runs choose Table 6's winner
    some = ours6["CIFAR10/40%"].config["tune"]
    for i, entry in enumerate(some["runs"]):
        _finish(out, entry["run"], 0.5 + (0.1 if i == 5 else 0.0))
    winner = some["runs"][5]["values"]
    ablation = next(r for r in t10 if r.stage == "single" and r.column == "CIFAR10/40%" and "entropy" in r.row.lower())
    assert apply(ablation.config)["tune"]["chosen"] == winner == apply(ours6["CIFAR10/40%"].config)["tune"]["chosen"]
