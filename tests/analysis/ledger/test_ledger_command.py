"""`repro ledger` end to end on fabricated run directories of a real sweep file: it writes Markdown, CSV and a PNG,
its interval is scipy's own paired t-test interval, every claim not in the runs is one line; bad input is refused
in one paragraph, exit 2, nothing written. No training."""

from __future__ import annotations

import re

import matplotlib.image
import pandas as pd
import pytest
from scipy import stats
from test_ledger import SWEEP, write_run

from analysis.sweeps import planned_runs
from repo_paths import REPO
from repro.claims.load import load_claims
from repro.claims.stats import PAIRED
from repro.claims.verdicts import LARGER
from repro.cli import main
from repro.sweep.sweep_file import load_sweep


def test_repro_ledger_writes_markdown_csv_and_png_from_a_real_sweep_file(tmp_path, capsys):
    sweeps, root, out = tmp_path / "sweeps", tmp_path / "outputs", tmp_path / "ledger"
    sweeps.mkdir()
    (sweeps / "table1.yaml").write_text(SWEEP)
    values = {"Baseline": [0.90, 0.92, 0.91], "Ours (Instance)": [0.95, 0.96, 0.96]}
    for planned in planned_runs(load_sweep(sweeps / "table1.yaml"), output_root=root):
        write_run(root, planned.run_id, values[planned.row][planned.seed], planned.config)
    assert main(["ledger", "--runs", str(root), "--sweeps-dir", str(sweeps), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Ours (Instance) > Baseline" in printed and "After Holm's correction" in printed

    frame = pd.read_csv(out / "ledger.csv", keep_default_na=False)
    answered = frame[frame["verdict"] != "not in the runs"]
    assert answered[["claim", "column", "interval"]].values.tolist() == [
        ["Ours (Instance) > Baseline", "Digits/SmallCNN", str(PAIRED)]
    ]
    low, high = stats.ttest_rel([95, 96, 96], [90, 92, 91]).confidence_interval(0.95)
    bounds = answered[["ci_low", "ci_high"]].astype(float).values.tolist()[0]
    assert bounds == [pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4)]
    # digits is no column of the paper's: its smallest Table 1 gain, +0.30 (CIFAR10/ResNet18), said so
    assert answered["paper"].tolist() == ["+0.30 (no column like ours; its smallest, CIFAR10/ResNet18)"]
    assert answered["verdict"].tolist() == [str(LARGER)]
    assert float(answered["detectable"].iloc[0]) > 0 and answered["claim_holds_after_holm"].iloc[0] in ("True", True)
    assert (frame["verdict"] == "not in the runs").sum() == len(load_claims()) - 1  # the others, one line each
    md = (out / "ledger.md").read_text()
    assert re.search(r"\| 1 +\| Ours \(Instance\) > Baseline +\| Digits/SmallCNN +\|", md)
    assert "- Table 6, Ours (setting A) > MentorNet: no sweep file for Table 6" in md
    assert matplotlib.image.imread(out / "ledger.png").shape[0] > 100


def test_repro_ledger_refuses_bad_input_with_one_paragraph(tmp_path, capsys):
    (tmp_path / "runs").mkdir()
    demo = str(REPO / "sweeps" / "demo")
    assert main(["ledger", "--runs", str(tmp_path), "--sweeps-dir", demo, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "No runs found" in err and "no ledger was written" in err
    bad = tmp_path / "claims.csv"
    bad.write_text("table,name,kind,terms,paper_terms,where,margin,margin_reason,measure,says\n"
                   "1,x,gain,+Ours (Magic); -Baseline,,,,,,x\n")  # fmt: skip
    write_run(tmp_path, "some-run", 0.5)
    out = tmp_path / "out"
    code = main(["ledger", "--runs", str(tmp_path), "--sweeps-dir", demo, "--claims", str(bad), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "has no row 'Ours (Magic)'" in err and err.count("\n") == 1
    assert not out.exists()
