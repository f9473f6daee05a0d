"""The ledger of the paper's claims (analysis/ledger/): fabricated run directories with known differences, read by
the same code as `repro tables` (collect_runs, build_table), each interval checked against scipy's own t-test
intervals (scipy.stats.ttest_rel / ttest_ind(equal_var=False)), and every verdict; the command writes md, csv, png.
No training."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.image
import pandas as pd
import pytest
from scipy import stats

from analysis.collect import collect_runs
from analysis.ledger.build import build_ledger
from analysis.ledger.claims import load_claims
from analysis.ledger.intervals import NOT_SIGNIFICANT, ONE_SEED, OPPOSITE, PAIRED, SIGN_REPRODUCED, WELCH, compare
from analysis.sweeps import planned_runs
from repo_paths import REPO
from repro.cli import main
from repro.runs.rundir import RunDir
from repro.sweep.spec.model import PlannedRun
from repro.sweep.spec.sweep_file import load_sweep

# Table 1's layout, one scenario per column: {(row, column): {seed: final_test_acc, None: failed}}.
BASE = {0: 0.700, 1: 0.720, 2: 0.740}
VALUES = {
    ("Baseline", "CIFAR100/ResNet18"): BASE,
    ("Ours (Instance)", "CIFAR100/ResNet18"): {0: 0.725, 1: 0.740, 2: 0.770},  # +2.5, +2.0, +3.0: reproduced
    ("Baseline", "CIFAR100/VGG16"): BASE,
    ("Ours (Instance)", "CIFAR100/VGG16"): {0: 0.710, 1: 0.710, 2: 0.745},  # +1.0, -1.0, +0.5: not significant
    ("Baseline", "CIFAR10/ResNet18"): BASE,
    ("Ours (Instance)", "CIFAR10/ResNet18"): {0: 0.690, 1: 0.705, 2: 0.732},  # -1.0, -1.5, -0.8: opposite
    ("Baseline", "CIFAR10/VGG16"): BASE,
    ("Ours (Instance)", "CIFAR10/VGG16"): {0: 0.800, 1: None, 2: None},  # one seed finished
    ("Ours (Class)", "CIFAR100/ResNet18"): {10: 0.760, 11: 0.790, 12: 0.770, 13: 0.800},  # no shared seed: Welch
}


@dataclass
class FakeSpec:
    """A stand-in with repro.sweep.spec.SweepSpec's API: run ids chosen by hand, every cell a plain run."""

    values: dict = field(default_factory=lambda: VALUES)
    name: str = "table1"
    metric: str = "final_test_acc"

    @property
    def rows(self):
        return list(dict.fromkeys(row for row, _ in self.values))

    @property
    def columns(self):
        return list(dict.fromkeys(column for _, column in self.values))

    def expand(self, *, output_root, scale=None):
        cfg = {"data": {"name": "digits"}}
        return [
            PlannedRun(run_id(row, column, seed), row, column, seed, "single", None, (), cfg)
            for (row, column), seeds in self.values.items()
            for seed in seeds
        ]


def run_id(row: str, column: str, seed: int) -> str:
    return "-".join("".join(c for c in text if c.isalnum()) for text in (row, column, str(seed))).lower()


def write_run(root: Path, rid: str, value: float | None) -> None:
    rd = RunDir(root / "runs" / rid)
    rd.path.mkdir(parents=True)
    rd.write_config({"data": {"name": "digits"}, "model": {"name": "smallcnn"}, "seed": 0})
    rd.write_status("done" if value is not None else "failed", epoch=3, message="" if value is not None else "nan")
    if value is not None:
        rd.write_summary({"final_test_acc": value, "epochs": 3})


def fabricate(root: Path, values: dict) -> None:
    for (row, column), seeds in values.items():
        for seed, value in seeds.items():
            write_run(root, run_id(row, column, seed), value)


def percent(row: str, column: str, seeds=None) -> list[float]:
    found = VALUES[(row, column)]
    return [100 * found[s] for s in (seeds or found) if found[s] is not None]


@pytest.fixture
def ledger(tmp_path):
    fabricate(tmp_path, VALUES)
    claims = load_claims(tables=[1, 2])
    return build_ledger(collect_runs(tmp_path), {1: FakeSpec()}, claims, output_root=tmp_path, sweeps="fake")


def entry(ledger, claim: str, column: str):
    return next(e for e in ledger.entries if e.claim.name == claim and e.column == column)


def test_paired_interval_is_scipys_and_each_verdict_follows_from_it(ledger):
    for column, verdict in [
        ("CIFAR100/ResNet18", SIGN_REPRODUCED),
        ("CIFAR100/VGG16", NOT_SIGNIFICANT),
        ("CIFAR10/ResNet18", OPPOSITE),
    ]:
        found = entry(ledger, "Ours (Instance) > Baseline", column)
        expected = stats.ttest_rel(percent("Ours (Instance)", column), percent("Baseline", column))
        low, high = expected.confidence_interval(0.95)
        assert found.ours.test == PAIRED and found.ours.n_pairs == 3
        assert (found.ours.low, found.ours.high) == (pytest.approx(low), pytest.approx(high))
        assert found.ours.diff == pytest.approx((low + high) / 2)
        assert found.verdict == verdict
        assert found.paper.same_column and found.paper.side == 1  # the paper's own column: its difference is > 0


def test_welch_interval_where_no_seed_is_shared(ledger):
    found = entry(ledger, "Ours (Class) > Baseline", "CIFAR100/ResNet18")
    expected = stats.ttest_ind(
        percent("Ours (Class)", "CIFAR100/ResNet18"), percent("Baseline", "CIFAR100/ResNet18"), equal_var=False
    )
    low, high = expected.confidence_interval(0.95)
    assert found.ours.test == WELCH and (found.ours.n_better, found.ours.n_worse) == (4, 3)
    assert (found.ours.low, found.ours.high) == (pytest.approx(low), pytest.approx(high))
    assert found.verdict == SIGN_REPRODUCED  # 78.0 vs 72.0, each ±~1.8


def test_one_finished_seed_gives_no_interval_and_missing_claims_are_one_line_each(ledger):
    found = entry(ledger, "Ours (Instance) > Baseline", "CIFAR10/VGG16")
    assert found.verdict == ONE_SEED and math.isnan(found.ours.low)
    assert found.ours.diff == pytest.approx(80.0 - 72.0)
    # Table 2 has no sweep here: one line per claim, no crash
    missing = {m.claim.name: m.reason for m in ledger.missing}
    assert missing == {
        "Ours (Instance) > Label Smoothing": "no sweep file for Table 2 in fake",
        "Ours (Instance) > Confidence Penalty": "no sweep file for Table 2 in fake",
    }
    assert len(ledger.entries) == 5  # four Instance columns, one Class column


def test_a_row_the_sweep_does_not_plan_and_a_side_without_finished_runs_are_named(tmp_path):
    values = {
        ("Baseline", "Digits/SmallCNN"): {0: None, 1: None},
        ("Ours (Instance)", "Digits/SmallCNN"): {0: 0.99, 1: 0.98},
    }
    fabricate(tmp_path, values)
    ledger = build_ledger(collect_runs(tmp_path), {1: FakeSpec(values)}, load_claims(tables=[1]), output_root=tmp_path)
    assert not ledger.entries
    reasons = {m.claim.name: m.reason for m in ledger.missing}
    assert reasons["Ours (Instance) > Baseline"] == "no finished run in Baseline / Digits/SmallCNN (0 of 2 done)"
    assert reasons["Ours (Class) > Baseline"] == "the sweep plans no run of 'Ours (Class)'"


def test_the_paper_difference_of_a_column_the_paper_lacks_is_the_mean_of_its_columns():
    table1, table3 = load_claims(tables=[1]), load_claims(tables=[3])
    instance = next(c for c in table1 if c.better_row == "Ours (Instance)")
    diffs = [p.diff for p in instance.paper]
    assert len(diffs) == 4 and all(d > 0 for d in diffs)
    digits = instance.paper_difference("Digits/SmallCNN", "Digits/SmallCNN")
    assert not digits.same_column and digits.value == pytest.approx(sum(diffs) / 4)
    assert f"mean of its 4 columns, {min(diffs):+.2f} to {max(diffs):+.2f}" in digits.text()
    dynamic = next(c for c in table3 if c.better_row == "Class")
    assert [(p.better_column, p.worse_column) for p in dynamic.paper] == [("Dynamic=yes/Class", "Dynamic=no/Class")]
    assert dynamic.worse_column("Digits Dynamic=yes/Class") == "Digits Dynamic=no/Class"
    assert dynamic.worse_column("Digits Dynamic=no/Class") is None


def test_every_declared_claim_is_a_gain_in_every_column_the_paper_prints():
    claims = load_claims()
    assert {c.table for c in claims} == {1, 2, 3, 6}
    assert all(pair.diff > 0 for claim in claims for pair in claim.paper)


def test_compare_pairs_only_on_two_or_more_shared_seeds_and_a_paper_loss_flips_the_verdict():
    one_shared = compare([(0, 1.0), (1, 2.0)], [(1, 0.0), (2, 0.5)])
    assert one_shared.test == WELCH
    without_spread = compare([(0, 3.0), (1, 3.0)], [(0, 1.0), (1, 1.0)])
    assert (without_spread.low, without_spread.high) == (2.0, 2.0)
    assert without_spread.verdict(paper_side=1) == SIGN_REPRODUCED
    assert without_spread.verdict(paper_side=-1) == OPPOSITE


SWEEP = """\
table: 1
metric: final_test_acc
seeds: [0, 1, 2]
common: [data=digits, model=smallcnn, split=full, optim.epochs=1]
columns:
  Digits/SmallCNN: []
rows:
  Baseline: [method=baseline]
  Ours (Instance): [method=label_smoothing]
"""


def test_repro_ledger_writes_markdown_csv_and_png_from_a_real_sweep_file(tmp_path, capsys):
    sweeps, root, out = tmp_path / "sweeps", tmp_path / "outputs", tmp_path / "ledger"
    sweeps.mkdir()
    (sweeps / "table1.yaml").write_text(SWEEP)
    values = {"Baseline": [0.90, 0.92, 0.91], "Ours (Instance)": [0.95, 0.96, 0.96]}
    for planned in planned_runs(load_sweep(sweeps / "table1.yaml"), output_root=root):
        write_run(root, planned.run_id, values[planned.row][planned.seed])
    assert main(["ledger", "--runs", str(root), "--sweeps-dir", str(sweeps), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Ours (Instance) > Baseline" in printed and SIGN_REPRODUCED in printed

    frame = pd.read_csv(out / "ledger.csv", keep_default_na=False)
    answered = frame[frame["verdict"] != "not in the runs"]
    assert answered[["claim", "column", "interval"]].values.tolist() == [
        ["Ours (Instance) > Baseline", "Digits/SmallCNN", PAIRED]
    ]
    low, high = stats.ttest_rel([95, 96, 96], [90, 92, 91]).confidence_interval(0.95)
    bounds = answered[["ci_low", "ci_high"]].astype(float).values.tolist()[0]
    assert bounds == [pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4)]
    assert (frame["verdict"] == "not in the runs").sum() == 11  # the other claims, one line each
    md = (out / "ledger.md").read_text()
    assert re.search(r"\| 1 +\| Ours \(Instance\) > Baseline +\| Digits/SmallCNN +\|", md)
    assert "- Table 6, Ours (Instance labels) > MentorNet: no sweep file for Table 6" in md
    assert matplotlib.image.imread(out / "ledger.png").shape[0] > 100


def test_repro_ledger_refuses_bad_input_with_one_paragraph(tmp_path, capsys):
    (tmp_path / "runs").mkdir()
    demo = str(REPO / "sweeps" / "demo")
    assert main(["ledger", "--runs", str(tmp_path), "--sweeps-dir", demo, "--out", str(tmp_path)]) == 2
    assert "No runs found" in capsys.readouterr().err
    bad = tmp_path / "claims.csv"
    bad.write_text("table,better_row,worse_row,better_setting,worse_setting,claim\n1,Ours (Magic),Baseline,,,x\n")
    write_run(tmp_path, "some-run", 0.5)
    out = tmp_path / "out"
    code = main(["ledger", "--runs", str(tmp_path), "--sweeps-dir", demo, "--claims", str(bad), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "has no row 'Ours (Magic)'" in err and err.count("\n") == 1
    assert not out.exists()


def test_a_table_not_run_into_this_root_is_one_line_per_claim(tmp_path):
    write_run(tmp_path, "another-tables-run", 0.5)
    ledger = build_ledger(collect_runs(tmp_path), {1: FakeSpec()}, load_claims(tables=[1]), output_root=tmp_path)
    planned = sum(len(seeds) for seeds in VALUES.values())
    assert not ledger.entries and len(ledger.missing) == 2
    assert {m.reason for m in ledger.missing} == {
        f"none of the {planned} runs Table 1's sweep reports is in these runs (not run here yet?)"
    }
