"""Every run records the clean labels it used beyond its noisy training labels, and what for; every noisy table
shows them. The facts come from the split (its held-out part) and the method (needs_meta_set, clean_label_uses)."""

from __future__ import annotations

import pytest

from presets import QUIET
from repro.config import load_config
from repro.methods import METHODS, method_declaration
from repro.train import train
from repro.training.clean_labels import META_SET, NONE, VALIDATION

TINY = [
    "data=digits",
    "data.subset=300",
    "data.test_subset=60",
    "optim.epochs=1",
    *QUIET,
    "model=tinycnn",
]


@pytest.mark.parametrize(
    "overrides, purpose",
    [
        (["method=instance_labels", "split=noisy", "noise=uniform", "split.meta_fraction=0.1"], META_SET),
        (["method=baseline", "split=noisy", "noise=uniform", "split.meta_fraction=0.1"], VALIDATION),
        (["method=baseline", "split=full", "noise=uniform"], NONE),
    ],
)
def test_runs_record_clean_labels_used_and_what_for(tmp_path, overrides, purpose):
    summary = train(load_config([*TINY, f"output_root={tmp_path}", *overrides])).summary
    assert summary["clean_labels_use"] == purpose
    assert summary["clean_labels_used"] == (summary["num_meta"] if purpose != NONE else 0)
    assert summary["num_meta"] > 0 or purpose == NONE


def test_exactly_the_meta_learning_methods_declare_a_meta_set():
    learns_on_meta = {name for name in METHODS if method_declaration(name).needs_meta_set}
    assert {"instance_labels", "class_labels", "l2rw", "mwnet"} <= learns_on_meta
    assert not {"baseline", "label_smoothing", "coteaching", "loss_correction", "data_parameters"} & learns_on_meta


def _fabricated_table(tmp_path, noise: str, summaries: dict) -> str:
    """Render a one-column table from fabricated finished runs (the `repro tables` path)."""
    from repro.cli import main
    from repro.runs.rundir import RunDir
    from repro.sweep.expand.expand import expand_sweep
    from repro.sweep.sweep_file import load_sweep

    sweeps = tmp_path / "sweeps"
    sweeps.mkdir(parents=True)
    (sweeps / "table10.yaml").write_text(
        "table: 10\ntitle: A noisy table.\nmetric: final_test_acc\nseeds: [0, 1]\n"
        f"common: [data=digits, model=smallcnn, split=noisy, {noise}]\ncolumns:\n  Digits: []\n"
        "rows:\n  Ours: [method=instance_labels]\n  Baseline: [method=baseline]\n"
    )
    root = tmp_path / "outputs"
    for p in expand_sweep(load_sweep(sweeps / "table10.yaml"), output_root=str(root)):
        rd = RunDir(root / "runs" / p.run_id)
        rd.path.mkdir(parents=True)
        rd.write_config(p.config)
        rd.write_status("done", epoch=1)
        rd.write_summary({"final_test_acc": 0.5, "epochs": 1, **summaries.get(p.row, {})})
    out = tmp_path / "ours"
    assert main(["tables", "--runs", str(root), "--sweeps-dir", str(sweeps), "--out", str(out), "--tables", "10"]) == 0
    return (out / "table10.md").read_text()


def test_noisy_tables_show_each_rows_clean_labels(tmp_path):
    md = _fabricated_table(
        tmp_path,
        "noise=uniform",
        {
            "Ours": {"clean_labels_use": META_SET, "clean_labels_used": 1000},
            "Baseline": {"clean_labels_use": VALIDATION, "clean_labels_used": 1000},
        },
    )
    assert "| Method | Digits | Clean labels |" in md
    assert "| Ours | 50.00 ± 0.00 (n=2) | meta set (1,000) |" in md
    assert "| Baseline | 50.00 ± 0.00 (n=2) | validation only (1,000) |" in md


def test_old_runs_say_not_recorded_and_clean_tables_have_no_column(tmp_path):
    md = _fabricated_table(tmp_path / "noisy", "noise=uniform", {})
    assert "| Ours | 50.00 ± 0.00 (n=2) | not recorded |" in md
    md = _fabricated_table(
        tmp_path / "clean", "noise=none", {"Ours": {"clean_labels_use": META_SET, "clean_labels_used": 1000}}
    )
    assert "Clean labels" not in md and "| Method | Digits |" in md
