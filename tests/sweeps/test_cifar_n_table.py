"""sweeps/cifar_n.yaml (table 14): its table renders beside the CIFAR-N paper's own numbers with the clean-labels
column. Its rows are planned and run by its small check (tests/sweeps/test_cifar_n_sweep.py), and its dry run by
docs/costs.md's check (tests/commands/test_costs_doc.py)."""

from __future__ import annotations

import pytest

from paper_runs import expanded, expansions_reused
from repo_paths import REPO
from repro.cli import main
from repro.methods import method_declaration
from repro.runs.rundir import RunDir

SWEEPS = REPO / "sweeps"


@pytest.mark.slow
def test_the_cifar_n_table_renders_with_paper_numbers_and_clean_labels(tmp_path):
    root = tmp_path / "outputs"
    planned = [p for p in expanded(SWEEPS / "cifar_n.yaml", root) if p.stage == "single"]
    assert {p.config["noise"]["type"] for p in planned} == {"aggre", "random1", "worse", "noisy"}
    for p in planned:
        rd = RunDir(root / "runs" / p.run_id)
        rd.path.mkdir(parents=True)
        rd.write_config(p.config)
        rd.write_status("done", epoch=1)
        meta = method_declaration(p.config["method"]["name"]).needs_meta_set
        rd.write_summary(
            {
                "final_test_acc": 0.8,
                "epochs": 1,
                "clean_labels_used": 1000,
                "clean_labels_use": "meta set" if meta else "validation only",
            }
        )
    out = tmp_path / "tables"
    with expansions_reused(root):  # the table's index takes the expansion the runs were written from
        command = ["tables", "--runs", str(root), "--sweeps-dir", str(SWEEPS), "--out", str(out), "--tables", "14"]
        assert main(command) == 0
    md = (out / "table14.md").read_text()
    assert md.startswith("# Table 14: ours vs the paper")
    assert "| Method | CIFAR-10N/aggre ours | paper | Δ |" in md and md.splitlines()[-1] != ""
    co_teaching = next(line for line in md.splitlines() if line.startswith("| Co-teaching |"))
    assert "91.20 ± 0.13" in co_teaching and co_teaching.endswith("| validation only (1,000) |")
    ours = next(line for line in md.splitlines() if line.startswith("| Ours (Instance labels) |"))
    assert ours.endswith("| meta set (1,000) |") and "(not in paper)" in ours
