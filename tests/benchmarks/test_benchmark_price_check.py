"""benchmarks/price_check.py's report: each finished run of the sweep it trained, priced as the dry run prices it on
the calibration in its folder, against the seconds its summary records, per step kind and for the whole sweep (here
on a fabricated calibration and fabricated summaries; the benchmark itself trains for minutes)."""

from __future__ import annotations

import pytest

from benchmarks import price_check
from repro.runs.rundir import RunDir
from repro.sweep.budget.calibration import Calibration
from repro.sweep.budget.costs import run_gpu_hours

ROWS = ["Baseline", "L2RW"]


@pytest.mark.slow
def test_the_report_prices_each_finished_run_against_its_recorded_seconds(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REPRO_CALIBRATION_DIR", str(tmp_path / "calibration"))
    figures = {"smallcnn": {"plain": 10.0, "meta": 40.0, "weight_lookahead": 40.0}}
    Calibration("cpu-1t", 128, figures, {"smallcnn": 0.01}, "measured", {"smallcnn": [1, 8, 8, 10]}).save()
    args = ["--keep", str(tmp_path), "--report", "--rows", *ROWS, "--epochs", "2"]
    plan = price_check.plan_of(tmp_path, price_check.parser().parse_args(args))
    assert {run.row for run in plan.unique.values()} == set(ROWS)
    for run_id, run in plan.unique.items():  # every run took twice its price
        seconds = 2 * run_gpu_hours(run.config, price_check.load_calibration(), run.share) * 3600
        rd = RunDir(plan.output_root / "runs" / run_id)
        rd.path.mkdir(parents=True)
        rd.write_summary({"seconds": seconds})
    assert price_check.main([*args, "--markdown"]) == 0
    cells = [line.strip(" |").split("|") for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    ratios = {row[0].strip(): row[-1].strip() for row in cells[1:]}  # step kind -> est/measured
    assert ratios == {"plain": "0.50", "weight_lookahead": "0.50", "whole sweep": "0.50"}
