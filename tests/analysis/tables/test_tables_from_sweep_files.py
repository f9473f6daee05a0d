"""Tables from run directories planned by sweep files (`repro tables --sweeps-dir`): a written sweep file, a real
scaled `repro sweep`, the repository's own Table 6, 7 and 10 files. Each run's value is chosen by hand (or read back
from the run), so every expected cell is computed in the test."""

from __future__ import annotations

import shutil

import pytest

from analysis import demo
from paper_runs import expanded, expansions_reused
from presets import QUIET_YAML
from repo_paths import REPO
from repro.cli import main
from repro.runs.rundir import RunDir
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.sweep_file import load_sweep

SWEEP = """\
table: 1
metric: final_test_acc
seeds: [0, 1]
common: [data=digits, model=smallcnn, optim.epochs=1]
columns:
  CIFAR100/ResNet18: []
rows:
  Baseline: [method=baseline, split=full]
  Ours (Class): {learn: [method=class_labels]}
  Ours (Instance): {needs: a method that does not exist yet}
"""


@pytest.mark.slow
def test_tables_from_a_real_sweep_file(tmp_path, capsys):
    """The real sweep API (repro.sweep.spec): run ids come from expanding the file; fold runs are not reported."""

    sweeps = tmp_path / "sweeps"
    sweeps.mkdir()
    (sweeps / "table1.yaml").write_text(SWEEP)
    root = tmp_path / "outputs"
    planned = expand_sweep(load_sweep(sweeps / "table1.yaml"), output_root=str(root))
    values = {("Baseline", 0): 0.60, ("Baseline", 1): 0.64, ("Ours (Class)", 0): 0.81}
    for p in planned:
        rd = RunDir(root / "runs" / p.run_id)
        rd.path.mkdir(parents=True)
        rd.write_config(p.config)
        value = 0.05 if p.stage == "fold" else values.get((p.row, p.seed))
        rd.write_status("done" if value is not None else "interrupted", epoch=1, message="" if value else "SIGTERM")
        if value is not None:
            rd.write_summary({"final_test_acc": value, "epochs": 1})
    out = tmp_path / "ours"
    assert main(["tables", "--runs", str(root), "--sweeps-dir", str(sweeps), "--out", str(out)]) == 0
    md = (out / "table1.md").read_text()
    assert "| Baseline | 62.00 ± 2.83 (n=2) | 77.1 ± 0.3 | -15.10 |" in md  # stdev(60, 64) = 2*sqrt(2)
    assert "| Ours (Class) | 81.00 (n=1 of 2) | 78.8 ± 0.2 | +2.20 |" in md
    assert "| Ours (Instance) | not run yet (needs a method that does not exist yet) | 79.2 ± 0.2 |  |" in md
    final_1 = next(p for p in planned if p.row == "Ours (Class)" and p.stage == "final" and p.seed == 1)
    assert f"- `{final_1.run_id}` (Ours (Class), CIFAR100/ResNet18, seed 1): interrupted: SIGTERM" in md
    assert "Not averaged (1 planned run: 1 interrupted)" in md
    assert "Table 1: 3 runs averaged, 1 not averaged" in capsys.readouterr().out


@pytest.mark.slow
def test_repro_tables_finds_the_runs_of_a_scaled_repro_sweep(tmp_path, capsys):
    """End to end: `repro sweep --epochs/--subset` (real tiny trainings), then `repro tables`, which expands each
    sweep with the scale its last `repro sweep` used (or the one given on its command line)."""
    sweeps = tmp_path / "sweeps"
    sweeps.mkdir()
    (sweeps / "table2.yaml").write_text(
        "table: 2\nmetric: final_test_acc\nseeds: [0, 1]\n"
        f"common: [data=digits, model=smallcnn, split=full, {QUIET_YAML}]\n"
        "columns:\n  CIFAR100/ResNet18: []\nrows:\n  Baseline: [method=baseline]\n"
    )
    root, out = tmp_path / "outputs", tmp_path / "ours"
    scale = ["--epochs", "1", "--subset", "200", "--test-subset", "100"]
    assert main(["sweep", str(sweeps / "table2.yaml"), *scale, "--output-root", str(root), "--jobs", "1"]) == 0
    accs = sorted(RunDir(p).read_summary()["final_test_acc"] for p in (root / "runs").iterdir())
    assert len(accs) == 2
    capsys.readouterr()

    assert main(["tables", "--runs", str(root), "--sweeps-dir", str(sweeps), "--out", str(out)]) == 0
    md = (out / "table2.md").read_text()
    mean, std = 50 * (accs[0] + accs[1]), 100 * abs(accs[0] - accs[1]) / 2**0.5  # stdev of two values
    assert f"| Baseline | {mean:.2f} ± {std:.2f} (n=2) | 77.1 ± 0.3 |" in md
    assert "Sweep expanded with optim.epochs=1 data.subset=200 data.test_subset=100." in md

    # the same scale given explicitly finds the same runs; another scale finds none and writes nothing
    assert main(["tables", "--runs", str(root), "--sweeps-dir", str(sweeps), "--out", str(out), *scale]) == 0
    assert (out / "table2.md").read_text() == md
    assert main(["tables", "--runs", str(root), "--sweeps-dir", str(sweeps), "--out", str(out), "--epochs", "2"]) == 2
    captured = capsys.readouterr()
    assert "Table 2: none of its 2 planned runs" in captured.out and "None of the runs" in captured.err
    assert (out / "table2.md").read_text() == md


@pytest.mark.slow
def test_tables_6_and_7_render_ours_from_their_own_runs(tmp_path):
    """Table 7's "Ours" runs on setting B's noise model are its own (not Table 6's CIFAR-100/40% run): with the real
    sweep files, each table's Ours cell is the value of its own runs."""
    repo_sweeps = REPO / "sweeps"
    sweeps = tmp_path / "sweeps"
    sweeps.mkdir()
    root = tmp_path / "outputs"
    value = {6: 0.697, 7: 0.718}
    shutil.copy(repo_sweeps / "mentornet.yaml", sweeps / "mentornet.yaml")  # the MentorNet rows' mentor runs
    for t in (6, 7):
        shutil.copy(repo_sweeps / f"table{t}.yaml", sweeps / f"table{t}.yaml")
        for p in expanded(sweeps / f"table{t}.yaml", root):
            if p.column != "CIFAR100/40%" or not p.row.startswith("Ours") or p.stage == "tune":
                continue
            rd = RunDir(root / "runs" / p.run_id)
            rd.path.mkdir(parents=True)  # raises if the two tables shared a run
            rd.write_config(p.config)
            rd.write_status("done", epoch=1)
            rd.write_summary({"final_test_acc": value[t], "epochs": 1})
    out = tmp_path / "ours"
    command = ["tables", "--runs", str(root), "--sweeps-dir", str(sweeps), "--out", str(out), "--tables", "6", "7"]
    with expansions_reused(root):  # the indexes take the expansion the runs were written from
        assert main(command) == 0
    for t in (6, 7):
        row = next(
            line for line in (out / f"table{t}.md").read_text().splitlines() if "| Ours (Instance labels) |" in line
        )
        assert f"{100 * value[t]:.2f} ± 0.00 (n=3)" in row, row


def test_a_table_the_paper_does_not_have_shows_ours_only(tmp_path, capsys):
    """Our own tables (the curriculum ablation, sweeps/table10.yaml): no paper column, no Δ, the sweep's title."""

    sweeps = tmp_path / "sweeps"
    sweeps.mkdir()
    (sweeps / "table10.yaml").write_text(
        "table: 10\ntitle: An ablation.\nmetric: best_val_acc\nseeds: [0, 1]\n"
        "common: [data=digits, model=smallcnn, split=noisy, noise=uniform, method=instance_labels, "
        "method.curriculum=entropy]\ncolumns:\n  Digits/40%: [noise.fraction=0.4]\n"
        "rows:\n  Certainty: [method.curriculum_weight=certainty]\n  Entropy: [method.curriculum_weight=entropy]\n"
    )
    root = tmp_path / "outputs"
    values = {("Certainty", 0): 0.90, ("Certainty", 1): 0.94, ("Entropy", 0): 0.80}
    for p in expand_sweep(load_sweep(sweeps / "table10.yaml"), output_root=str(root)):
        rd = RunDir(root / "runs" / p.run_id)
        rd.path.mkdir(parents=True)
        rd.write_config(p.config)
        rd.write_status("done", epoch=1)
        rd.write_summary({"best_val_acc": values.get((p.row, p.seed), 0.5), "final_test_acc": 0.01, "epochs": 1})
    out = tmp_path / "ours"
    assert main(["tables", "--runs", str(root), "--sweeps-dir", str(sweeps), "--out", str(out), "--tables", "10"]) == 0
    md = (out / "table10.md").read_text()
    assert md.startswith("# Table 10: ours (not a paper table): An ablation.")
    assert "`best_val_acc` (validation accuracy in percent)" in md
    assert "| paper |" not in md and "Δ" not in md and "Paper:" not in md
    assert "| Method | Digits/40% |" in md
    assert "| Certainty | 92.00 ± 2.83 (n=2) |" in md and "| Entropy | 65.00 ± 21.21 (n=2) |" in md


def test_the_curriculum_ablation_files_plan_four_rows_and_stay_out_of_the_demo():

    root = REPO / "sweeps"
    for path, cells in ((root / "table10.yaml", 2), (root / "demo" / "table10.yaml", 1)):
        spec = load_sweep(path)
        planned = [p for p in expand_sweep(spec, output_root="out") if p.stage != "tune"]  # CIFAR: Table 6's tuning
        readings = {
            (p.config["method"]["curriculum_weight"], p.config["method"]["curriculum_placement"]) for p in planned
        }
        assert readings == {(s, w) for s in ("certainty", "entropy") for w in ("model_step", "both")}
        assert len(planned) == 4 * cells * len(spec.seeds) and spec.metric == "best_val_acc"
        assert all(
            p.config["noise"]["kind"] == "uniform" and p.config["method"]["curriculum"] == "entropy" for p in planned
        )
    assert 10 not in demo.demo_specs(demo.DemoSize(name="full"))
