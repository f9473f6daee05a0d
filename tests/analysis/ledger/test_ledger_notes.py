"""What a ledger line (and a table) says beside its verdict is true: a tuning note names the cells that differ by row
and column (Table 4's two Baseline cells differ in their column only), a paper difference drawn from a cell its sweep
marks `cited` (Table 7's 20% and 80% Baseline: another recipe's numbers) says so on its line, and a sweep expanded
with a stage's option (`--tune-strategy halving`) says it in its tables and ledger. Fabricated run directories, no
training."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import pandas as pd
import pytest

from analysis.collect import collect_runs
from analysis.ledger.build import build_ledger
from analysis.sweeps import planned_runs
from paper_runs import write_run
from repro.claims.load import load_claims
from repro.cli import main
from repro.sweep.spec.model import PlannedRun, Scale
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_folder import remember_selection, sweep_dir

DIGITS = {"data": {"name": "digits"}, "split": {"full_train": True}, "model": {"name": "smallcnn"}}
SCALED, PLAIN = "Temperature scaling=yes", "Temperature scaling=no"


@dataclass
class Table4:
    """Table 4's four cells of "Instance-label teacher less sensitive to temperature", three seeds each: the
    temperature-scaled cells tuned on validation, the others at their config's temperature."""

    name: str = "table4"
    metric: str = "final_test_acc"
    rows: list = field(default_factory=lambda: ["Baseline", "Ours (Model)"])

    def cells(self) -> list[tuple[str, str]]:
        return [(row, f"{setting}/{row}") for row in self.rows for setting in (SCALED, PLAIN)]

    def expand(self, *, output_root, scale=None):
        return [
            PlannedRun(
                f"{row}-{column}-{seed}".replace(" ", "_").replace("/", "_"),
                row,
                column,
                seed,
                "single",
                None,
                (),
                self.config(column, seed),
            )  # fmt: skip
            for row, column in self.cells()
            for seed in range(3)
        ]

    @staticmethod
    def config(column: str, seed: int) -> dict:
        method = {"name": "distillation", "temperature": 1.0}
        tune = {"tune": {"keys": ["method.temperature"]}} if column.startswith(SCALED) else {}
        return {**DIGITS, "method": method, **tune, "seed": seed}


def test_a_tuning_note_names_the_cells_that_differ_by_row_and_column(tmp_path):
    spec = Table4()
    for run in spec.expand(output_root=tmp_path):
        write_run(tmp_path, run, 50.0 + run.seed)
    claims = [c for c in load_claims(tables=[4]) if c.name == "Instance-label teacher less sensitive to temperature"]
    ledger = build_ledger(collect_runs(tmp_path), {4: spec}, claims, output_root=tmp_path)
    (line,) = ledger.lines
    # one note per difference the interaction contrasts, each naming its two cells
    assert [n for n in line.notes if n.startswith("tuning differs")] == [
        f"tuning differs: {row} / {SCALED}/{row} tuned (temperature); {row} / {PLAIN}/{row} at its config's values"
        for row in ("Baseline", "Ours (Model)")
    ]


TABLE7 = """\
    name: cited7
    table: 7
    metric: final_test_acc
    seeds: [0, 1]
    common: [data=digits, model=smallcnn, split=full, optim.epochs=1]
    columns:
      CIFAR100/20%: [data.subset=200]
      CIFAR100/40%: [data.subset=300]
    rows:
      Baseline: [method=baseline]
      Ours (setting B): [method=label_smoothing]
    gate:
      source: "Table 7's printed baseline"
      hold: false
      rows:
        Baseline:
          CIFAR100/20%: {number: 60.0, cited: "another paper's recipe"}
          CIFAR100/40%: {number: 50.66, std: 0.24}
"""


def test_a_paper_difference_drawn_from_a_cited_cell_says_so_on_its_line(tmp_path):
    sweeps, root = tmp_path / "sweeps", tmp_path / "out"
    sweeps.mkdir()
    (sweeps / "table7.yaml").write_text(textwrap.dedent(TABLE7))
    for run in planned_runs(load_sweep(sweeps / "table7.yaml"), output_root=root):
        write_run(root, run, 60.0 + (run.row == "Ours (setting B)") * 15.0 + run.seed)
    out = tmp_path / "ledger"
    argv = ["ledger", "--runs", str(root), "--sweeps-dir", str(sweeps), "--tables", "7", "--out", str(out)]
    assert main(argv) == 0
    frame = pd.read_csv(out / "ledger.csv", keep_default_na=False)
    baseline = frame[frame["claim"] == "Ours (setting B) > Baseline"].set_index("column")
    cited = "the paper's Δ uses Baseline / CIFAR100/20%, cited, not of this table's recipe: another paper's recipe"
    assert cited in baseline.loc["CIFAR100/20%", "notes"] and cited in (out / "ledger.md").read_text()
    assert "cited" not in baseline.loc["CIFAR100/40%", "notes"]  # Data Parameters' setting-B baseline: no note
    assert float(baseline.loc["CIFAR100/20%", "paper_diff"]) == pytest.approx(76.9 - 60.0)  # still the paper's


SWEEP = """\
    name: halved
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


def test_a_sweep_run_with_a_stage_option_says_it_in_its_tables_and_ledger(tmp_path, capsys):
    """The tuning strategy travels as a stage option on the Scale (`--tune-strategy halving`): the results index
    names it, and so the table and the ledger built on the runs that sweep planned."""
    sweeps, root = tmp_path / "sweeps", tmp_path / "out"
    sweeps.mkdir()
    (sweeps / "table1.yaml").write_text(textwrap.dedent(SWEEP))
    spec, scale = load_sweep(sweeps / "table1.yaml"), Scale(stage_options={"tune_strategy": "halving"})
    for run in planned_runs(spec, output_root=root, scale=scale):
        write_run(root, run, 90.0 + run.seed + (run.row != "Baseline"))
    remember_selection(sweep_dir(root, spec.name), spec, scale, [])  # as `repro sweep --tune-strategy halving` does
    common = ["--runs", str(root), "--sweeps-dir", str(sweeps), "--tables", "1", "--out", str(tmp_path / "o")]
    assert main(["tables", *common]) == 0 and main(["ledger", *common]) == 0
    assert "Sweep expanded with --tune-strategy halving." in (tmp_path / "o" / "table1.md").read_text()
    assert "Expanded with Table 1: --tune-strategy halving." in (tmp_path / "o" / "ledger.md").read_text()
