"""Patrini et al.'s selection of the estimating network (method.estimate_at=noisy_val_loss): the epoch of lowest loss
on the held-out part's noisy labels, which reads no clean label; and split.held_out_labels=noisy, a held-out part
that carries the noise model's labels, so that a loss-correction row uses no clean label at all."""

from __future__ import annotations

import json

import pytest
import torch

from presets import NOISY as NOISY_DIGITS
from repro.cli import main
from repro.config import load_config, to_container
from repro.data.noise.apply import inject_noise
from repro.data.noise.transition import anchor_transition
from repro.recorders.transition_estimate import read_kept_probs
from repro.runs.rundir import RunDir, run_id
from repro.training.run_data import load_run_data

NOISY = NOISY_DIGITS
ESTIMATED = ["method=loss_correction", "method.transition=estimated", "optim.epochs=1"]


@pytest.fixture(scope="module")
def estimator(tmp_path_factory):
    root = tmp_path_factory.mktemp("noisy_held_out")
    assert main(["train", "method=baseline", *NOISY, "optim.epochs=5", f"output_root={root}"]) == 0
    (run,) = list((root / "runs").iterdir())
    return root, run


def test_the_held_out_noisy_labels_are_the_noise_models_own(tmp_path):
    """The held-out part's noisy labels are the ones the uniform model draws for those images (the draw does not
    depend on which images are held out); with split.held_out_labels=noisy the run's held-out part carries them."""
    clean = load_run_data(load_config(NOISY))
    meta = clean.meta_idx
    everywhere, _ = inject_noise(load_config(NOISY).noise, clean.train_true_targets, num_classes=10, among=None)
    assert torch.equal(clean.all_noisy_targets, everywhere)
    assert torch.equal(clean.train_targets[meta], clean.train_true_targets[meta]) and clean.held_out_clean
    noisy = load_run_data(load_config([*NOISY, "split.held_out_labels=noisy"]))
    train_idx, meta2 = noisy.train_idx, noisy.meta_idx
    assert torch.equal(meta, meta2) and not noisy.held_out_clean
    assert torch.equal(noisy.train_targets[meta], everywhere[meta])
    assert torch.equal(noisy.train_targets[train_idx], clean.train_targets[train_idx])  # the training part: the same
    assert bool((noisy.train_targets[meta] != noisy.train_true_targets[meta]).any())


def test_a_noisy_run_keeps_the_network_of_its_lowest_noisy_held_out_loss(estimator):
    root, run = estimator
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    losses = [r["noisy_val_loss"] for r in metrics]
    probs, rows, info = read_kept_probs(run, "noisy_val_loss", run_id=run.name)
    assert info["epoch"] == losses.index(min(losses)) + 1  # the lowest; ties: the earlier epoch (Keras)
    assert info["noisy_val_loss"] == pytest.approx(min(losses)) and info["selection_clean_labels"] == 0
    summary = json.loads((run / "summary.json").read_text())
    assert probs.shape == (summary["num_train"], 10) and len(rows) == summary["num_train"]
    _, _, best_val = read_kept_probs(run, "best_val", run_id=run.name)
    assert best_val["selection_clean_labels"] == summary["num_meta"]  # picked on the clean held-out labels


def test_loss_correction_from_the_noisy_held_out_selection_uses_no_clean_label(estimator):
    root, run = estimator
    argv = [*NOISY, *ESTIMATED, f"method.estimator={run.name}", f"output_root={root}"]
    noisy = [*argv, "method.estimate_at=noisy_val_loss", "split.held_out_labels=noisy"]
    assert main(["train", *noisy]) == 0
    summary = RunDir.for_config(to_container(load_config(noisy))).read_summary()
    assert summary["clean_labels_use"] == "none" and summary["clean_labels_used"] == 0
    probs, rows, info = read_kept_probs(run, "noisy_val_loss", run_id=run.name)
    t, anchors = anchor_transition(probs, 97.0, where="test")
    assert summary["estimator_epoch"] == info["epoch"] and summary["estimate_at"] == "noisy_val_loss"
    assert summary["anchor_samples"] == [int(rows[a]) for a in anchors]
    best = [*argv, "method.estimate_at=best_val"]  # picked on the estimator's clean validation labels: said so
    assert main(["train", *best]) == 0
    summary = RunDir.for_config(to_container(load_config(best))).read_summary()
    assert summary["clean_labels_use"] == "validation only; estimator's epoch"
    assert summary["clean_labels_used"] == 2 * summary["num_meta"]


def test_run_ids_with_clean_held_out_labels_are_unchanged():
    config = to_container(load_config(NOISY))
    without = {**config, "split": {k: v for k, v in config["split"].items() if k != "held_out_labels"}}
    assert run_id(config) == run_id(without)
    assert run_id(to_container(load_config([*NOISY, "split.held_out_labels=noisy"]))) != run_id(config)


def test_a_meta_set_method_is_refused_a_noisy_held_out_part(tmp_path, capsys):
    code = main(["train", *NOISY, "method=l2rw", "split.held_out_labels=noisy", f"output_root={tmp_path}"])
    err = capsys.readouterr().err
    assert code == 2 and "leave split.held_out_labels=clean" in err and "Traceback" not in err
