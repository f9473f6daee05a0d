"""The ledger reads what `repro sweep --until-decided` decided of each line (the sweep folder's sequential.json,
repro/claims/sequential_record.py) and says it on the line and under the table. Fabricated runs, no training."""

from __future__ import annotations

from dataclasses import dataclass

from analysis.collect import collect_runs
from analysis.ledger.build import build_ledger
from analysis.ledger.render import render_csv, render_markdown
from repro.claims.load import load_claims
from repro.claims.sequential import SequentialDesign
from repro.claims.sequential_record import DECIDED, LineRecord, write_record
from repro.runs.rundir import RunDir
from repro.sweep.spec.model import PlannedRun
from repro.sweep.sweep_folder import sweep_dir

CLAIM, COLUMN = "Ours (Instance) > Baseline", "CIFAR100/ResNet18"
VALUES = {"Baseline": {0: 0.700, 1: 0.720, 2: 0.740}, "Ours (Instance)": {0: 0.725, 1: 0.740, 2: 0.770}}
CONFIG = {"data": {"name": "digits"}, "split": {"full_train": True}, "model": {"name": "smallcnn"}, "seed": 0}


@dataclass
class FakeSpec:
    """A stand-in with the sweep spec's API: Table 1's two rows in one column, every cell a plain run."""

    name: str = "table1"
    metric: str = "final_test_acc"
    rows = list(VALUES)
    columns = [COLUMN]

    def expand(self, *, output_root, scale=None):
        return [
            PlannedRun(f"{row}-{seed}".replace(" ", "").lower(), row, COLUMN, seed, "single", None, (), CONFIG)
            for row, seeds in VALUES.items()
            for seed in seeds
        ]


def test_the_ledger_says_at_which_seeds_a_line_was_decided_sequentially(tmp_path):
    spec = FakeSpec()
    for run in spec.expand(output_root=tmp_path):
        rd = RunDir(tmp_path / "runs" / run.run_id)
        rd.path.mkdir(parents=True)
        rd.write_config({**CONFIG, "seed": run.seed})  # as a trained run records its seed
        rd.write_status("done", epoch=3)
        rd.write_summary({"final_test_acc": VALUES[run.row][run.seed], "epochs": 3})
    design = SequentialDesign(max_seeds=4).text(2)
    record = LineRecord(1, CLAIM, COLUMN, DECIDED, 3, 2, 3, "consistent with the paper", 0.5, 4.5, p=0.2)
    write_record(sweep_dir(tmp_path, spec.name), design, [record])
    claims = [c for c in load_claims(tables=[1]) if c.name == CLAIM]
    ledger = build_ledger(collect_runs(tmp_path), {1: spec}, claims, output_root=tmp_path, sweeps="fake")
    said = "decided sequentially at 3 seeds (look 2 of 3): consistent with the paper"
    assert ledger.line_sequential[(1, CLAIM, COLUMN)] == said
    markdown = render_markdown(ledger)
    beside = "consistent with the paper; decided at 3 seeds (look 2 of 3; its repeated interval [+0.50, +4.50])"
    assert beside in markdown and "seeds added until decided, group-sequential: 3 look(s) at 2, 3, 4" in markdown
    assert said in render_csv(ledger)
    # Holm's headline takes the line's repeated p-value from the record, not the fixed-sample p over its seeds
    (line,) = ledger.lines
    assert line.p_value == 0.2 and ledger.claims[0].p_adjusted == 0.2 and not ledger.claims[0].holds
    assert "1 line(s) whose seeds were added until decided enter with their repeated p-values" in markdown
    # without a record the ledger says nothing sequential
    (sweep_dir(tmp_path, spec.name) / "sequential.json").unlink()
    plain = build_ledger(collect_runs(tmp_path), {1: spec}, claims, output_root=tmp_path, sweeps="fake")
    assert not plain.line_sequential and "decided at" not in render_markdown(plain)
    assert plain.lines[0].p_value < 0.025 and plain.claims[0].holds  # 3 paired seeds, gains 2.5, 2.0, 3.0 points
