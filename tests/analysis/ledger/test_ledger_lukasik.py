"""Lukasik et al.'s two claims (paper_tables/claims.csv: Tables 11-13, ours, no paper number) judged by `repro ledger`
on fabricated finished runs of sweeps/lukasik.yaml (Table 11), sweeps/table12.yaml and sweeps/table13.yaml: each line
says what it compares and its verdict, on its sign (a gain) or its margin (comparable) alone, with no paper
difference. The sweep files are the shipped ones cut to one column, to the rows the claims (and Table 13's teachers)
read and Table 13's temperature grid to two points, so that planning them costs a second, not the minute of their
whole expansion."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from analysis.sweeps import planned_runs
from paper_runs import write_run
from repo_paths import REPO
from repro.cli import main
from repro.sweep.sweep_file import load_sweep

CUTS = {  # file -> (its one column, the rows kept)
    "lukasik.yaml": ("CIFAR10/ResNet-32", ["One-hot", "Label Smoothing (tuned)", "Forward (known T)"]),
    "table12.yaml": ("CIFAR10/20%", ["One-hot", "Label Smoothing (tuned)", "Forward (known T)"]),
    "table13.yaml": ("CIFAR10/20%", ["One-hot teacher", "Label Smoothing teacher"]),
}
# per row, the points above one-hot training every seed of its column gets (seed s adds s/10 to every row)
ABOVE = {"Label Smoothing (tuned)": 0.3, "Forward (known T)": 0.1, "Label Smoothing teacher": 2.0}
SMOOTHING = "Lukasik et al.: Label Smoothing (tuned) ≈ Forward (known T)"
TEACHER = "Lukasik et al.: Label Smoothing teacher > One-hot teacher"


def cut_sweeps(folder: Path) -> Path:
    folder.mkdir()
    for name, (column, rows) in CUTS.items():
        data = yaml.safe_load((REPO / "sweeps" / name).read_text(encoding="utf-8"))
        data["columns"] = {column: data["columns"][column]}
        data["rows"] = {row: data["rows"][row] for row in rows}
        if "tune" in data:  # Table 13's temperature: two of its 41 points (the students' tuning is not judged here)
            data["tune"]["grid"] = {"method.temperature": [0.0, 1.0]}
        (folder / name).write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.mark.slow  # plans three CIFAR sweep files (Hydra composes each of their networks' and methods' groups): 5 CPU-s
def test_repro_ledger_judges_both_claims_on_the_three_sweeps_without_a_paper_number(tmp_path, capsys):
    sweeps, root, out = cut_sweeps(tmp_path / "sweeps"), tmp_path / "out", tmp_path / "ledger"
    for name in CUTS:
        for run in planned_runs(load_sweep(sweeps / name), output_root=root):
            if run.stage in ("single", "final"):
                write_run(root, run, 80.0 + ABOVE.get(run.row, 0.0) + run.seed / 10)
    argv = ["ledger", "--runs", str(root), "--sweeps-dir", str(sweeps), "--tables", "11", "12", "13", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    frame = pd.read_csv(out / "ledger.csv", keep_default_na=False)
    lines = frame[frame["verdict"] != "not in the runs"].set_index(["table", "claim"])
    assert set(lines.index) == {(11, SMOOTHING), (12, SMOOTHING), (13, TEACHER)}
    for table, column in ((11, "CIFAR10/ResNet-32"), (12, "CIFAR10/20%")):
        level = lines.loc[(table, SMOOTHING)]
        assert level["column"] == column and level["kind"] == "comparable"
        assert level["cells"] == f"+Label Smoothing (tuned) | {column}; -Forward (known T) | {column}"
        # +0.2 every seed, inside the 1.0-point margin of the claims file: two one-sided tests decide it
        assert float(level["ours_diff"]) == pytest.approx(0.2) and level["verdict"] == "equivalent within the margin"
    teacher = lines.loc[(13, TEACHER)]
    assert teacher["cells"] == "+Label Smoothing teacher | CIFAR10/20%; -One-hot teacher | CIFAR10/20%"
    assert float(teacher["ours_diff"]) == pytest.approx(2.0) and teacher["verdict"] == "sign reproduced"
    for _, found in lines.iterrows():  # no paper number anywhere: none shown, none borrowed from another table
        assert found["paper"] == "" and math.isnan(float(found["paper_diff"] or "nan"))
        assert found["ours_over_paper"] in ("", "nan") and found["paper_inside"] == ""
    for name in (SMOOTHING, TEACHER):
        assert name in printed
    assert "has no paper number: its Paper Δ is empty" in (out / "ledger.md").read_text(encoding="utf-8")
