"""The baseline gate (repro/sweep/stages/gate/gate.py) on digits: a number far from the baseline holds every other run
and says
why, `--accept-gate` releases it (recorded, and noted under the table), a near number runs straight through in one
command; the verdict's states from fabricated summaries; the gate's numbers in the paper's sweep files."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from gated_sweep import baseline_mean, row_runs, write_gated_sweep
from repo_paths import REPO
from repro.cli import main
from repro.errors import UserError
from repro.runs.rundir import RunDir
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.spec.model import Scale, SweepSpec
from repro.sweep.stages.gate.gate import GATE_FILE, evaluate_gate
from repro.sweep.stages.gate.gate_spec import GateSpec, gate_of
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_folder import sweep_dir


@pytest.mark.slow
def test_a_far_number_holds_the_table_and_accept_gate_releases_it(tmp_path, capsys):
    path, out = write_gated_sweep(tmp_path, 5.0), tmp_path / "out"
    # --rows without the gate's row still trains the gate first: it checks the recipe every row uses
    assert main(["sweep", str(path), "--output-root", str(out), "--jobs", "1", "--rows", "Smoothing"]) == 4
    text = capsys.readouterr().out
    assert all(rd.is_done() for rd in row_runs(path, out, "Baseline"))
    assert not any(rd.path.exists() for rd in row_runs(path, out, "Smoothing"))
    assert "HELD: nothing else of the table starts (2 run(s) wait)" in text
    assert "gap " in text and "OUTSIDE the tolerance 1.00" in text and "optim/schedule=step" in text
    assert main(["sweep", "status", str(path), "--output-root", str(out)]) == 4  # held, as the sweep said
    status = capsys.readouterr().out
    assert "held (waits for the baseline gate (held))" in status and "HELD" in status
    assert "for a published reason" in text and "selection on the test set" in text
    record = json.loads((sweep_dir(out.resolve(), "gated") / GATE_FILE).read_text())
    assert "accepted" not in record and [t["verdict"] for t in record["tried"]] == ["held"]  # the recipe judged

    assert main(["sweep", str(path), "--output-root", str(out), "--jobs", "1", "--accept-gate"]) == 0
    assert "ACCEPTED by " in capsys.readouterr().out
    assert all(rd.is_done() for rd in row_runs(path, out, "Smoothing"))
    record = json.loads((sweep_dir(out.resolve(), "gated") / GATE_FILE).read_text())
    assert record["accepted"] is True and record["state"] == "held" and len(record["gate_runs"]) == 2
    assert len(record["tried"]) == 1  # the same gate runs: the same recipe, listed once
    # what the user accepted was this command's decision, not the plan's: the sweep folder does not remember it
    assert json.loads((sweep_dir(out.resolve(), "gated") / "selection.json").read_text())["scale"] is None

    sweeps = tmp_path / "sweeps"
    sweeps.mkdir()
    (sweeps / "table30.yaml").write_text(path.read_text().replace("name: gated", "name: gated\ntable: 30"))
    tables = tmp_path / "tables"
    args = ["--runs", str(out), "--sweeps-dir", str(sweeps), "--tables", "30", "--out", str(tables)]
    assert main(["tables", *args]) == 0
    note = (tables / "table30.md").read_text()
    assert "Baseline gate (the test's number): accepted." in note and "Accepted with `--accept-gate` by " in note
    assert "Recipes tried at this gate (1): (1) lr 0.05" in note
    assert "Baseline: 8 steps of batch 64, 400 samples; Smoothing: 8 steps of batch 64, 400 samples." in note


@pytest.mark.slow
def test_a_near_number_runs_straight_through(tmp_path, capsys):
    first = write_gated_sweep(tmp_path, 5.0, name="probe")
    # the gate's row alone: its verdict is HELD, but no run of this selection waits, so nothing is held (exit 0)
    assert main(["sweep", str(first), "--output-root", str(tmp_path / "a"), "--jobs", "1", "--rows", "Baseline"]) == 0
    assert "HELD: nothing else of the table starts (0 run(s) wait)" in capsys.readouterr().out
    mean = baseline_mean(first, tmp_path / "a")  # what this recipe reaches (the same runs train alike again)
    path, out = write_gated_sweep(tmp_path, round(mean + 0.6, 2)), tmp_path / "b"
    capsys.readouterr()
    assert main(["sweep", str(path), "--output-root", str(out), "--jobs", "1"]) == 0
    text = capsys.readouterr().out
    assert "PENDING" in text and "within the tolerance 1.00" in text and "PASSED" in text
    assert all(rd.is_done() for row in ("Baseline", "Smoothing") for rd in row_runs(path, out, row))
    record = json.loads((sweep_dir(out.resolve(), "gated") / GATE_FILE).read_text())
    assert [t["verdict"] for t in record["tried"]] == ["passed"] and "accepted" not in record


def _done(out: Path, run, acc: float) -> None:
    rd = RunDir(out / "runs" / run.run_id)
    rd.path.mkdir(parents=True, exist_ok=True)
    rd.write_summary({"final_test_acc": acc})


def test_the_verdict_from_the_gate_runs_summaries(tmp_path):
    path, out = write_gated_sweep(tmp_path, 50.0), tmp_path / "out"
    spec = load_sweep(path)
    runs = expand_sweep(spec, output_root=out)
    gate = [r for r in runs if r.row == "Baseline"]
    assert evaluate_gate(spec, runs, out).state == "pending"
    _done(out, gate[0], 0.49)
    assert evaluate_gate(spec, runs, out).state == "pending"  # every seed of the cell first
    _done(out, gate[1], 0.52)
    verdict = evaluate_gate(spec, runs, out)
    assert verdict.state == "passed" and verdict.checks[0].gap == pytest.approx(0.5)
    _done(out, gate[1], 0.60)  # mean 54.5: 4.5 points off, the tolerance is max(1, 2 x 0.1)
    assert evaluate_gate(spec, runs, out).state == "held"
    assert evaluate_gate(spec, runs, out, Scale(epochs=1)).state == "off"  # a scaled run is not the protocol
    cell = replace(gate_of(spec).cells[0], cited="a weaker recipe")

    def with_gate(gate: GateSpec) -> SweepSpec:
        return replace(spec, stage_settings={**spec.stage_settings, "gate": gate})

    assert evaluate_gate(with_gate(replace(gate_of(spec), cells=(cell,))), runs, out).state == "cited"
    assert evaluate_gate(with_gate(replace(gate_of(spec), hold=False)), runs, out).state == "advisory"


def test_a_bad_gate_is_refused_with_the_key(tmp_path):
    for bad, key in (
        ("Nope:\n          Digits: 50", "gate.rows names 'Nope'"),
        ("Baseline:\n          Other: 50", "the column 'Other'"),
        ("Baseline:\n          Digits: {number: .nan}", "number"),
        ("Baseline:\n          Digits: {number: 50, evidence: x}", "evidence goes with cited"),
    ):
        path = write_gated_sweep(tmp_path, 50.0)
        text = path.read_text()
        path.write_text(text[: text.index("Baseline:\n", text.index("gate:"))] + bad + "\n")
        with pytest.raises(UserError, match=key):
            load_sweep(path)


# The cells whose number is not one of the table's recipe (reported, never holding): Table 6's baselines (Meta-Weight-
# Net's, under L2RW's schedule) and Table 7's 20% and 80% (printed without std, from other papers).
CITED = {6: {"CIFAR10/40%", "CIFAR10/60%", "CIFAR100/40%", "CIFAR100/60%"}, 7: {"CIFAR100/20%", "CIFAR100/80%"}}


@pytest.mark.parametrize("table", [1, 2, 4, 5, 6, 7, 8])
def test_the_paper_tables_gates_name_the_papers_numbers(table):
    spec = load_sweep(REPO / "sweeps" / f"table{table}.yaml")
    paper = pd.read_csv(REPO / "paper_tables" / "paper" / f"table{table if table != 8 else 1}.csv")
    assert gate_of(spec) is not None and gate_of(spec).cells and gate_of(spec).hold
    for cell in gate_of(spec).cells:
        row = paper[(paper["row"] == cell.row) & (paper["column"] == cell.column)]
        assert len(row) == 1, (cell.row, cell.column)
        std = row["std"].iloc[0]
        assert (cell.number, cell.std) == (row["mean"].iloc[0], None if math.isnan(std) else std)
        assert bool(cell.cited) == (cell.column in CITED.get(table, ()))
