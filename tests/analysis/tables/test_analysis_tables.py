"""Tables from hand-made run directories with known values (analysis/tables/build.py, `repro tables`).

Expectations are computed by hand: 0.70, 0.72, 0.74 -> mean 72.00, sample std (ddof=1) sqrt(((-2)^2+0+2^2)/2) = 2.00.
Most tests use a small stand-in with the API of repro.sweep.spec.SweepSpec (name, metric, rows, columns, needs,
expand(output_root=, scale=) -> repro.sweep.spec.PlannedRun), so run ids and values are chosen by hand. Tables from
real sweep files: test_tables_from_sweep_files.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

import analysis.sweeps as table_sweeps
from analysis.collect import collect_runs
from analysis.tables.build import build_table, make_tables
from analysis.tables.paper import paper_table
from analysis.tables.render import is_dense, render_markdown
from repro.cli import main
from repro.errors import UserError
from repro.runs.rundir import RunDir
from repro.sweep.spec.model import PlannedRun


@dataclass
class FakeSpec:
    """Table 2's layout, but the sweep runs only two of its four rows and one of its two columns."""

    name: str = "table2"
    metric: str = "final_test_acc"
    rows: list = field(default_factory=lambda: ["Baseline", "Ours (Instance)"])
    columns: list = field(default_factory=lambda: ["CIFAR100/ResNet18"])
    expanded_with: list = field(default_factory=list)

    def expand(self, *, output_root, scale=None):
        self.expanded_with.append((output_root, scale))
        planned = []
        for row in self.rows:
            for i, column in enumerate(self.columns):
                tag = f"{'base' if row == 'Baseline' else 'inst'}{'' if i == 0 else f'-c{i}'}"
                cfg = {"data": {"name": "digits"}}
                for seed in range(3):
                    folds = []
                    if row != "Baseline":
                        for fold in range(2):
                            fid = f"digits-smallcnn-{tag}-fold{fold}-s{seed}"
                            planned.append(PlannedRun(fid, row, column, seed, "fold", fold, (), cfg))
                            folds.append(fid)
                    stage = "final" if folds else "single"
                    planned.append(
                        PlannedRun(
                            f"digits-smallcnn-{tag}-s{seed}", row, column, seed, stage, None, (), cfg, tuple(folds)
                        )
                    )
        return planned


def write_run(
    root: Path, run_id: str, *, state: str, value: float | None = None, data: str = "digits", message: str = ""
) -> None:
    rd = RunDir(root / "runs" / run_id)
    rd.path.mkdir(parents=True)
    rd.write_config({"data": {"name": data}, "model": {"name": "smallcnn"}, "seed": 0})
    rd.write_status(state, epoch=3, message=message)
    if state == "done":
        rd.write_summary({"final_test_acc": value, "epochs": 3})


def populate(root: Path) -> None:
    """Baseline: three done seeds 0.70/0.72/0.74. Instance: seed 0 done 0.80, seed 1 failed, seed 2 running;
    its fold runs are done with absurd values that must never be averaged in."""
    for seed, value in enumerate([0.70, 0.72, 0.74]):
        write_run(root, f"digits-smallcnn-base-s{seed}", state="done", value=value)
    write_run(root, "digits-smallcnn-inst-s0", state="done", value=0.80)
    write_run(root, "digits-smallcnn-inst-s1", state="failed", message="the training loss became nan at epoch 2.")
    write_run(root, "digits-smallcnn-inst-s2", state="running")
    for seed in range(3):
        for fold in range(2):
            write_run(root, f"digits-smallcnn-inst-fold{fold}-s{seed}", state="done", value=0.01)
    write_run(root, "digits-smallcnn-unrelated", state="done", value=0.99)


def table2(root: Path, spec: FakeSpec | None = None):
    return build_table(2, spec or FakeSpec(), collect_runs(root), paper_table(2), output_root=root, source="test")


def test_cells_have_the_hand_computed_mean_std_and_count(tmp_path):
    populate(tmp_path)
    result = table2(tmp_path)
    base = result.cells[("Baseline", "CIFAR100/ResNet18")]
    assert base.n == 3 and base.planned == 3
    assert base.mean == pytest.approx(72.0, abs=1e-9)
    assert base.std == pytest.approx(2.0, abs=1e-9)
    assert base.ours_text() == "72.00 ± 2.00 (n=3)"
    assert base.paper_text() == "77.1 ± 0.3"
    assert base.diff == pytest.approx(72.0 - 77.1) and base.diff_text() == "-5.10"

    inst = result.cells[("Ours (Instance)", "CIFAR100/ResNet18")]
    assert inst.values == [pytest.approx(80.0)]  # the fold runs (0.01) and the unfinished seeds are not averaged
    assert inst.ours_text() == "80.00 (n=1 of 3)" and math.isnan(inst.std)
    assert sorted((p.run_id, p.state) for p in inst.pending) == [
        ("digits-smallcnn-inst-s1", "failed"),
        ("digits-smallcnn-inst-s2", "running"),
    ]
    assert result.averaged == 4


def test_empty_cells_say_no_runs_and_rows_cited_from_other_work_say_so(tmp_path):
    populate(tmp_path)
    spec = FakeSpec(columns=["CIFAR100/ResNet18", "CIFAR100/VGG16"])
    result = table2(tmp_path, spec)
    empty = result.cells[("Baseline", "CIFAR100/VGG16")]
    assert empty.n == 0 and empty.ours_text() == "no runs (0 of 3 done)" and math.isnan(empty.mean)
    assert {p.state for p in empty.pending} == {"not started"}
    cited = result.cells[("Confidence Penalty", "CIFAR100/ResNet18")]
    assert cited.ours_text() == "not run (cited from [15])" and cited.paper_text() == "77.6 ± 0.3"
    assert result.cells[("Label Smoothing", "CIFAR100/VGG16")].ours_text() == "not run (cited from [24])"
    # a row the sweep runs, in a column the sweep does not plan
    assert table2(tmp_path).cells[("Baseline", "CIFAR100/VGG16")].ours_text() == "not in sweep"


def test_markdown_puts_ours_beside_the_paper_and_names_runs_not_averaged(tmp_path):
    populate(tmp_path)
    md = render_markdown(table2(tmp_path))
    lines = md.splitlines()
    header = next(line for line in lines if line.startswith("| Method"))
    assert header.startswith("| Method | CIFAR100/ResNet18 ours | paper | Δ | CIFAR100/VGG16 ours | paper | Δ |")
    base = next(line for line in lines if line.startswith("| Baseline |"))
    assert "| 72.00 ± 2.00 (n=3) | 77.1 ± 0.3 | -5.10 |" in base
    assert "| Ours (Instance) | 80.00 (n=1 of 3) | 79.2 ± 0.2 | +0.80 |" in md
    assert "Not averaged (2 planned runs: 1 failed, 1 running):" in md
    assert "- `digits-smallcnn-inst-s1` (Ours (Instance), CIFAR100/ResNet18, seed 1): failed: the training loss" in md
    assert "- `digits-smallcnn-inst-s2` (Ours (Instance), CIFAR100/ResNet18, seed 2): running" in md
    assert "digits-smallcnn-inst-fold" not in md  # fold runs are not reported runs
    assert [line for line in lines if line.startswith("|")][1].count("---") == 7
    assert "Data sets of our runs: digits" in md


def test_make_tables_writes_markdown_and_csv_with_exact_numbers(tmp_path):
    populate(tmp_path)
    spec = FakeSpec()
    out = tmp_path / "ours"
    written = make_tables(
        collect_runs(tmp_path), {2: spec}, out_dir=out, output_root=tmp_path, source="test", log=lambda msg: None
    )
    assert written == [out / "table2.md"]
    assert spec.expanded_with == [(str(tmp_path), None)]
    csv = pd.read_csv(out / "table2.csv", dtype={"paper": str, "ours": str, "ref": str})
    row = csv[(csv["row"] == "Baseline") & (csv["column"] == "CIFAR100/ResNet18")].iloc[0]
    assert (row["ours_mean"], row["ours_std"], row["ours_n"], row["ours_planned"]) == (72.0, 2.0, 3, 3)
    assert (row["paper_mean"], row["paper_std"], row["paper"]) == (77.1, 0.3, "77.1 ± 0.3")
    assert row["diff"] == pytest.approx(-5.1)
    inst = csv[(csv["row"] == "Ours (Instance)") & (csv["column"] == "CIFAR100/ResNet18")].iloc[0]
    assert (inst["ours_n"], inst["ours_planned"], inst["not_averaged"]) == (1, 3, 2)
    assert math.isnan(inst["ours_std"])  # no std from one run: empty, never 0
    cited = csv[(csv["row"] == "Confidence Penalty") & (csv["column"] == "CIFAR100/ResNet18")].iloc[0]
    assert cited["ours"] == "not run (cited from [15])" and cited["ours_n"] == 0 and cited["ref"] == "15"
    assert math.isnan(cited["ours_mean"]) and math.isnan(cited["diff"])
    assert len(csv) == 8  # every printed cell of Table 2
    assert not list(out.glob(".*tmp"))


def test_mixed_data_sets_in_one_cell_are_an_error(tmp_path):
    populate(tmp_path)
    (tmp_path / "runs" / "digits-smallcnn-base-s2" / "config.yaml").write_text("data: {name: cifar100}\n")
    with pytest.raises(
        UserError,
        match=r"Table 2, cell 'Baseline' / 'CIFAR100/ResNet18' mixes data sets "
        r"\(cifar100, digits\)",
    ):
        table2(tmp_path)


def test_no_runs_means_a_clear_error_and_no_file_written_over_good_ones(tmp_path, monkeypatch):
    monkeypatch.setattr(table_sweeps, "load_specs", lambda sweeps_dir, tables=None: {2: FakeSpec()})
    out = tmp_path / "ours"
    out.mkdir()
    (out / "table2.md").write_text("good table\n")
    (tmp_path / "empty" / "runs").mkdir(parents=True)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["tables", "--runs", str(tmp_path / "empty"), "--out", str(out)])
    assert code == 2
    assert "No runs found" in err.getvalue() and "no tables were written" in err.getvalue()
    assert (out / "table2.md").read_text() == "good table\n"
    assert sorted(p.name for p in out.iterdir()) == ["table2.md"]
    # runs exist, but none of this table's: nothing written either
    write_run(tmp_path / "other", "digits-smallcnn-unrelated", state="done", value=0.5)
    with contextlib.redirect_stderr(err):
        assert main(["tables", "--runs", str(tmp_path / "other"), "--out", str(out)]) == 2
    assert "None of the runs" in err.getvalue()
    assert (out / "table2.md").read_text() == "good table\n"


def test_repro_tables_command_end_to_end(tmp_path, monkeypatch, capsys):
    populate(tmp_path)
    monkeypatch.setattr(table_sweeps, "load_specs", lambda sweeps_dir, tables=None: {2: FakeSpec()})
    out = tmp_path / "ours"
    assert main(["tables", "--runs", str(tmp_path), "--out", str(out), "--tables", "2"]) == 0
    assert "Table 2: 4 runs averaged, 2 not averaged" in capsys.readouterr().out
    assert "| Baseline | 72.00 ± 2.00 (n=3) | 77.1 ± 0.3 | -5.10 |" in (out / "table2.md").read_text()


def test_load_specs_names_missing_sweep_files(tmp_path):
    (tmp_path / "table1.yaml").write_text("name: table1\n")
    with pytest.raises(UserError, match=r"No sweep file for table\(s\) 9 .*tables with a sweep file: 1"):
        table_sweeps.load_specs(tmp_path, [9])
    with pytest.raises(UserError, match="No sweep files"):
        table_sweeps.load_specs(tmp_path / "nothing")


@dataclass
class Table3Spec:
    """Table 3 puts the setting into the column key (Dynamic=no/Class ...): half of its row x column grid is empty."""

    metric: str = "final_test_acc"
    rows: list = field(default_factory=lambda: ["Class", "Instance"])
    columns: list = field(
        default_factory=lambda: ["Dynamic=no/Class", "Dynamic=no/Instance", "Dynamic=yes/Class", "Dynamic=yes/Instance"]
    )

    def expand(self, *, output_root, scale=None):
        return [
            PlannedRun(
                f"digits-smallcnn-{c.replace('/', '-')}-s{s}",
                c.split("/")[1],
                c,
                s,
                "final",
                None,
                (),
                {"data": {"name": "digits"}},
            )
            for c in self.columns
            for s in (0, 1)
        ]


def test_a_mostly_empty_grid_is_listed_cell_by_cell(tmp_path):
    for c, (a, b) in {"Dynamic=no/Class": (0.5, 0.6), "Dynamic=yes/Instance": (0.9, 0.8)}.items():
        for s, value in enumerate((a, b)):
            write_run(tmp_path, f"digits-smallcnn-{c.replace('/', '-')}-s{s}", state="done", value=value)
    result = build_table(3, Table3Spec(), collect_runs(tmp_path), paper_table(3), output_root=tmp_path)
    assert not is_dense(result)
    md = render_markdown(result)
    assert "| Method | Column | ours | paper | Δ |" in md
    assert "| Class | Dynamic=no/Class | 55.00 ± 7.07 (n=2) | 77.2 ± 0.1 | -22.20 |" in md
    assert "| Instance | Dynamic=yes/Instance | 85.00 ± 7.07 (n=2) | 79.2 ± 0.2 | +5.80 |" in md
    assert "| Class | Dynamic=no/Instance |" not in md  # no empty cells
    assert "| Instance | Dynamic=no/Instance | no runs (0 of 2 done) | 78.4 ± 0.3 |  |" in md
    assert md.count("| Dynamic=") == 4


def test_a_cell_mixing_commits_or_precisions_is_noted_and_warned(tmp_path, caplog):
    populate(tmp_path)
    for seed, commit in enumerate(["aaa", "aaa", "bbb"]):
        path = tmp_path / "runs" / f"digits-smallcnn-base-s{seed}" / "provenance.json"
        path.write_text(json.dumps({"sessions": [{"commit": commit, "dirty": False}]}))
    frame = collect_runs(tmp_path)
    assert set(frame["commit"].dropna()) == {"aaa", "bbb"} and set(frame["precision"]) == {"fp32"}
    result = table2(tmp_path)
    assert result.mixing_warnings() == [
        "Table 2, cell 'Baseline' / 'CIFAR100/ResNet18' averages runs of different commits: aaa, bbb."
    ]
    assert "Note: Table 2, cell 'Baseline'" in render_markdown(result)
    with caplog.at_level("WARNING"):
        make_tables(
            collect_runs(tmp_path), {2: FakeSpec()}, out_dir=tmp_path / "out", output_root=tmp_path, log=lambda _: None
        )
    assert "different commits" in caplog.text
    # one commit, two precisions: said as well
    bf16 = RunDir(tmp_path / "runs" / "digits-smallcnn-base-s2")
    bf16.write_config({**bf16.read_config(), "precision": "bf16"})
    for seed in range(3):
        (tmp_path / "runs" / f"digits-smallcnn-base-s{seed}" / "provenance.json").unlink()
    assert table2(tmp_path).mixing_warnings() == [
        "Table 2, cell 'Baseline' / 'CIFAR100/ResNet18' averages runs of different precisions: bf16, fp32."
    ]


def test_runs_of_one_commit_and_precision_get_no_note(tmp_path):
    populate(tmp_path)
    result = table2(tmp_path)
    assert result.mixing_warnings() == [] and "Note:" not in render_markdown(result)
