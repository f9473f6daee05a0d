"""`repro sweep status FILE` on a half-finished local sweep: GPU-hours spent (measured) and projected, and per cell
its runs done / running / queued and tuning winner."""

from __future__ import annotations

import textwrap

import pytest

from presets import QUIET
from repro.cli import main
from repro.runs.rundir import RunDir
from repro.sweep.budget.spend import sweep_spend
from repro.sweep.run import run_sweep
from repro.sweep.spec.model import Scale
from repro.sweep.status import sweep_status

SWEEP = """
    name: spend
    metric: final_test_acc
    seeds: [0, 1]
    common: [data=digits, model=smallcnn, split=full]
    columns:
      Digits: []
    rows:
      Baseline: [method=baseline]
      L2RW: [method=l2rw, split=holdout]
"""
SCALE = Scale(epochs=2, subset=200, test_subset=100)


@pytest.fixture(autouse=True)
def _calibration_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_CALIBRATION_DIR", str(tmp_path / "calibration"))


def test_status_of_a_half_finished_sweep_shows_spent_and_projected_gpu_hours(tmp_path, capsys):
    path, out = tmp_path / "spend.yaml", tmp_path / "out"
    path.write_text(textwrap.dedent(SWEEP))
    run_sweep(
        path, output_root=out, scale=SCALE, only={"rows": ["Baseline"]}, extra_overrides=QUIET, report=lambda s: None
    )
    plan = sweep_status(path, output_root=out, scale=SCALE, only={})
    done = [rid for rid, st in plan.status.items() if st.state == "done"]
    assert len(done) == 2 and len(plan.unique) == 4
    measured = sum(RunDir(out.resolve() / "runs" / rid).read_summary()["seconds"] for rid in done) / 3600
    spend = sweep_spend(plan)
    assert spend.spent_h == pytest.approx(measured)
    # the L2RW runs have no measured epochs of their kind: priced from the calibration (here the H100 figures)
    assert spend.from_calibration == 2 and spend.from_measured == 0 and spend.projected_h > 0
    # a running run: its epochs so far count as spent, its rest is projected from its own epoch time
    rid = next(r for r in plan.unique if r not in done)
    rd = RunDir(out.resolve() / "runs" / rid)
    rd.path.mkdir(parents=True, exist_ok=True)
    rd.write_metrics([{"epoch": 1, "seconds": 36.0}])
    spend = sweep_spend(sweep_status(path, output_root=out, scale=SCALE, only={}))
    assert spend.spent_h == pytest.approx(measured + 0.01) and spend.from_measured == 1
    assert (
        main(
            [
                "sweep",
                "status",
                str(path),
                "--output-root",
                str(out),
                "--epochs",
                "2",
                "--subset",
                "200",
                "--test-subset",
                "100",
                "--rows",
                "Baseline",
                "L2RW",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "GPU-hours spent: " in text and "GPU-hours projected for the rest: " in text
    cells = {
        line.split()[0]: line.split()[2:5]
        for line in text.splitlines()
        if line.startswith(("Baseline ", "L2RW "))
        and "Digits" in line
        and len(line.split()) >= 5
        and line.split()[2].isdigit()
    }
    assert cells == {"Baseline": ["2", "0", "0"], "L2RW": ["0", "0", "2"]}
