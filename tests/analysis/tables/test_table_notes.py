"""Under a rendered table (analysis/tables/notes.py): each row's optimizer steps and training samples, so that Tables
6 and 7 compare every "Ours" like for like; the sweep's notes; the demo's gates never hold."""

from __future__ import annotations

import pytest

from analysis.tables.notes import run_budget, table_notes, training_budget
from repo_paths import REPO
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.index import index_sweep
from repro.sweep.stages.gate.gate_spec import gate_of
from repro.sweep.sweep_file import load_sweep


@pytest.mark.slow
def test_tables_6_and_7_plan_the_like_for_like_rows_with_their_steps_and_samples():
    t6 = [
        r for r in expand_sweep(load_sweep(REPO / "sweeps" / "table6.yaml"), output_root="out") if r.stage == "single"
    ]
    budget = training_budget(r for r in t6 if r.column == "CIFAR10/40%")
    # setting A: Meta-Weight-Net's 20,000 iterations of batch 100 over 49,000 noisy images (40 epochs and 400 steps)
    assert budget["Ours (setting A)"] == budget["Baseline"] == "20,000 steps of batch 100, 2.00M samples"
    # Table 9's WRN-28-10 recipe: 120 epochs of ceil(49,000 / 128) = 383 steps
    assert (
        budget["Ours (Instance labels)"]
        == budget["One-hot (Ours' recipe)"]
        == "45,960 steps of batch 128, 5.88M samples"
    )
    t7 = [
        r for r in expand_sweep(load_sweep(REPO / "sweeps" / "table7.yaml"), output_root="out") if r.stage == "single"
    ]
    budget = training_budget(r for r in t7 if r.column == "CIFAR100/40%")
    assert budget["Ours (setting B)"] == budget["Baseline"] == "45,960 steps of batch 128, 5.88M samples"
    assert set(budget) >= {"Ours (Instance labels)", "One-hot (Ours' recipe)", "Data Parameters", "L2RW"}


def test_notes_under_table_6_say_which_ours_the_paper_reports(tmp_path):
    spec = load_sweep(REPO / "sweeps" / "table6.yaml")
    index = index_sweep(spec, output_root=tmp_path, records={})
    notes = table_notes(spec, index.runs, tmp_path)
    assert notes[0].startswith("Trained per run") and "Ours (setting A): 20,000 steps of batch 100" in notes[0]
    assert any("most likely" in n and '"Ours (setting A)"' in n for n in notes)
    # the gate's verdict is the gate stage's own note, through the protocol (`Stage.notes`), read from the index
    [gate] = index.notes.under
    assert gate.startswith("Baseline gate (the paper's Table 6, cited") and "never holds" in gate


def test_an_iteration_schedule_counts_the_samples_of_its_cut_epoch():
    config = next(
        r.config
        for r in expand_sweep(load_sweep(REPO / "sweeps" / "table6.yaml"), output_root="out")
        if r.row == "Baseline"
    )
    assert run_budget(config) == (20000, 100, 40 * 49000 + 400 * 100)


@pytest.mark.parametrize("path", sorted((REPO / "sweeps" / "demo").glob("*.yaml")), ids=lambda p: p.name)
def test_the_demo_is_never_held_by_a_gate(path):
    spec = load_sweep(path)
    assert gate_of(spec) is None or not gate_of(spec).hold
