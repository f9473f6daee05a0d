"""Recorded claims (analysis/ledger/measures.py): the noise-correction rates and label entropies a noisy run's summary
holds, and the class-label trajectory and per-class meta accuracy its fold runs record, each read from fabricated run
directories in the layout a run leaves, and judged against the paper's words or number; and what a table's seeds
redraw, read from its planned configs (analysis/ledger/variance.py). No training."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from analysis.collect import collect_runs
from analysis.ledger.build import build_ledger
from analysis.ledger.variance import seed_sources
from paper_runs import write_class_fold
from repro.claims.load import load_claims
from repro.claims.verdicts import AT_PAPER_LEVEL, CONSISTENT, OPPOSITE, SIGN_REPRODUCED
from repro.labels.trajectory import write_class_trajectory
from repro.runs.rundir import RunDir
from repro.sweep.spec.model import PlannedRun

DIGITS = {"data": {"name": "digits", "num_classes": 10}, "split": {"full_train": True}}
NOISY = {**DIGITS, "noise": {"kind": "uniform", "fraction": 0.4, "seed": 0}, "method": {"labels": "instance"}}


@dataclass
class Spec:
    """repro.sweep.spec.SweepSpec's API over hand-made planned runs."""

    runs: list
    name: str = "fake"
    metric: str = "final_test_acc"

    @property
    def rows(self):
        return list(dict.fromkeys(r.row for r in self.runs))

    @property
    def columns(self):
        return list(dict.fromkeys(r.column for r in self.runs))

    def expand(self, *, output_root, scale=None):
        return self.runs


def done(root: Path, run: PlannedRun, **summary) -> None:
    rd = RunDir(root / "runs" / run.run_id)
    rd.path.mkdir(parents=True, exist_ok=True)
    rd.write_config(run.config)
    rd.write_status("done", epoch=6)
    rd.write_summary({"final_test_acc": 0.9, "epochs": 6, **summary})


def claim(table: int, name: str):
    return [c for c in load_claims(tables=[table]) if c.name == name]


def test_noise_removed_at_top1_and_top5_accuracy_are_read_from_the_summary(tmp_path):
    wrong = {0: 0.330, 1: 0.335, 2: 0.325}  # the paper's 40% -> 33% at top-1
    runs = [PlannedRun(f"ours-{s}", "Ours (Instance labels)", "Digits/40%", s, "single", None, (), NOISY)
            for s in wrong]  # fmt: skip
    for run in runs:
        done(tmp_path, run, final_label_noise_top1=wrong[run.seed], final_label_acc_top5=0.88 + 0.01 * run.seed)
    claims = claim(6, "Noise at top-1 removed") + claim(6, "Top-5 label accuracy at convergence")
    ledger = build_ledger(collect_runs(tmp_path), {6: Spec(runs)}, claims, output_root=tmp_path)
    removed, top5 = ledger.lines
    values = [100 * (0.4 - w) for w in wrong.values()]
    low, high = stats.ttest_1samp(values, 0.0).confidence_interval(0.95)
    assert removed.ours.interval() == (pytest.approx(low), pytest.approx(high))
    assert removed.paper.value == 7.0 and removed.paper.how == "CIFAR100/40%"  # the column the paper speaks of
    assert removed.verdict is CONSISTENT and removed.unit == "points"
    assert top5.ours.diff == pytest.approx(89.0) and top5.paper.value == 90.0 and top5.verdict is AT_PAPER_LEVEL
    assert [j.holds for j in ledger.claims] == [True, None]  # a level is reported, not counted in Holm's family


def test_uncorrected_labels_entropy_gap_has_the_papers_direction_only(tmp_path):
    runs = [PlannedRun(f"ours-{s}", "Ours (Instance labels)", "Digits/40%", s, "single", None, (), NOISY)
            for s in range(3)]  # fmt: skip
    for run in runs:  # the uncorrected labels are the flatter ones here: the opposite of the paper's words
        done(tmp_path, run, final_clean_label_entropy=0.30, final_uncorrected_label_entropy=0.50 + 0.01 * run.seed)
    claims = claim(6, "Uncorrected labels: lower entropy than clean ones")
    (found,) = build_ledger(collect_runs(tmp_path), {6: Spec(runs)}, claims, output_root=tmp_path).lines
    assert found.paper.value is None and found.unit == "nats"
    assert found.ours.diff == pytest.approx(-0.21) and found.verdict is OPPOSITE


def class_runs(falling: bool) -> list[PlannedRun]:
    runs = []
    for seed in range(3):
        runs.append(PlannedRun(f"final-{seed}", "Ours (Class)", "Digits/SmallCNN", seed, "final", None, (), DIGITS))
        for fold in range(2):
            rid = f"fold-{seed}-{fold}-{'down' if falling else 'up'}"
            runs.append(PlannedRun(rid, "Ours (Class)", "Digits/SmallCNN", seed, "fold", fold, (), DIGITS))
    return runs


def test_class_smoothing_falls_and_tracks_meta_accuracy_from_the_fold_runs_records(tmp_path):
    runs = class_runs(falling=True)
    for run in runs:
        write_class_fold(tmp_path, run) if run.stage == "fold" else done(tmp_path, run)
    claims = claim(1, "Class smoothing falls from its early level") + claim(
        1, "Class smoothing tracks per-class meta accuracy"
    )
    ledger = build_ledger(collect_runs(tmp_path), {1: Spec(runs)}, claims, output_root=tmp_path)
    fall, tracks = ledger.lines
    target = np.load(tmp_path / "runs" / "fold-0-0-down" / "labels" / "class_target_prob.npy")
    smoothing = 1 - target.mean(axis=1)
    assert fall.samples[0].values[0] == pytest.approx(100 * (smoothing[:3].mean() - smoothing[-1]), rel=1e-5)
    assert len(fall.cells[0].runs) == 6  # two folds per seed, averaged into the seed's value
    assert fall.verdict is SIGN_REPRODUCED and tracks.verdict is SIGN_REPRODUCED
    assert tracks.ours.diff == pytest.approx(1.0, abs=1e-6)  # target falls with each class's error: r = 1


def test_class_smoothing_rising_to_the_end_is_opposite(tmp_path):
    runs = class_runs(falling=False)
    for run in runs:
        if run.stage != "fold":
            done(tmp_path, run)
            continue
        rd = write_class_fold(tmp_path, run)
        rising = np.linspace(0.95, 0.6, 6)[:, None] * np.ones((6, 10))  # smoothing grows to the last epoch
        write_class_trajectory(rd.labels_dir, rising)
    claims = claim(1, "Class smoothing falls from its early level")
    (found,) = build_ledger(collect_runs(tmp_path), {1: Spec(runs)}, claims, output_root=tmp_path).lines
    assert found.ours.diff < 0 and found.verdict is OPPOSITE


def test_a_source_tied_to_the_seed_is_redrawn_and_one_left_at_a_value_is_fixed():
    def noisy(seed: int, noise_seed: int) -> dict:
        generator = {"seed": 42, "num_samples": 5000, "train_split": 0.8}
        return {**NOISY, "seed": seed, "noise": {**NOISY["noise"], "seed": noise_seed}, "split": {"seed": 0},
                "data": {"name": "mnist1d", "generator": generator}}  # fmt: skip

    tied = seed_sources({("Baseline", "MNIST-1D/40%"): [noisy(s, noise_seed=s) for s in range(3)]})
    assert "noise pattern (noise.seed varies with the seed)" in tied.redrawn
    assert [source for source, _, _ in tied.fixed] == ["meta split and folds", "MNIST-1D data set"]
    wide = seed_sources({("Baseline", "MNIST-1D/40%"): [{**noisy(s, 0), "model": {"channels": 64}} for s in range(3)]})
    assert ("network width", "model.channels=64") in [(s, v) for s, v, _ in wide.fixed]  # where the key exists
    assert ("MNIST-1D data set", "data.generator.seed=42") in [(s, v) for s, v, _ in tied.fixed]
    fixed = seed_sources({("Baseline", "MNIST-1D/40%"): [noisy(s, noise_seed=0) for s in range(3)]})
    assert "noise pattern (noise.seed=0)" in fixed.text() and len(fixed.redrawn) == 1
    clean = seed_sources({("Baseline", "Digits/SmallCNN"): [{**DIGITS, "split": {"seed": 0}}]})
    assert [source for source, _, _ in clean.fixed] == ["meta split and folds"]  # no noise, no generated data
