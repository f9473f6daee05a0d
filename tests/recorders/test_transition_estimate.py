"""Patrini et al.'s T estimate from the estimator's best-validation network (repro/recorders/transition_estimate.py,
method.estimate_at=best_val): what a noisy run keeps of that network, the per-epoch estimate error, a loss-correction
run that reads it, the final-network option, run ids unchanged for configs without the key, and refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from presets import NOISY
from repro.cli import main
from repro.config import load_config, to_container
from repro.data.noise.transition import anchor_transition, noise_transition
from repro.recorders.transition_estimate import read_kept_probs, transition_mae
from repro.runs.rundir import run_id

ESTIMATED = ["method=loss_correction", "method.transition=estimated", "optim.epochs=1"]


@pytest.fixture(scope="module")
def estimator(tmp_path_factory):
    root = tmp_path_factory.mktemp("estimate")
    assert main(["train", "method=baseline", *NOISY, "optim.epochs=4", f"output_root={root}"]) == 0
    (run,) = list((root / "runs").iterdir())
    return root, run


@pytest.mark.slow
def test_a_noisy_run_keeps_its_best_validation_softmax(estimator):
    root, run = estimator
    summary = json.loads((run / "summary.json").read_text())
    probs, rows, info = read_kept_probs(run, "best_val", run_id=run.name)
    assert info["epoch"] == summary["best_val_epoch"]
    assert info["val_acc"] == summary["best_val_acc"]
    assert probs.shape == (summary["num_train"], 10) and len(rows) == summary["num_train"]
    assert torch.allclose(probs.sum(dim=1), torch.ones(len(probs)), atol=1e-5)
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert all(np.isfinite(r["anchor_t_mae"]) and 0 <= r["anchor_t_mae"] <= 1 for r in metrics)


def test_estimate_error_is_the_mean_absolute_difference():
    a = torch.eye(3, dtype=torch.float64)
    b = torch.full((3, 3), 1 / 3, dtype=torch.float64)
    assert transition_mae(a, b) == pytest.approx((3 * (2 / 3) + 6 * (1 / 3)) / 9)


@pytest.mark.slow
def test_loss_correction_reads_the_best_validation_estimate(estimator, tmp_path):
    root, run = estimator
    options = [*NOISY, *ESTIMATED, f"method.estimator={run.name}", f"output_root={root}"]
    assert main(["train", *options, "method.estimate_at=best_val"]) == 0
    assert main(["train", *options]) == 0  # the final network (the default)
    summaries = {}
    for path in (root / "runs").iterdir():
        s = json.loads((path / "summary.json").read_text())
        if s.get("estimate_at"):
            summaries[s["estimate_at"]] = s
    best, final = summaries["best_val"], summaries["final"]
    probs, rows, info = read_kept_probs(run, "best_val", run_id=run.name)
    t, anchors = anchor_transition(probs, 97.0, where="test")
    assert best["estimator_epoch"] == info["epoch"] and final["estimator_epoch"] == 4  # the final network: its last
    assert np.allclose(best["transition_matrix"], t.numpy(), atol=1e-6)
    assert best["anchor_samples"] == [int(rows[a]) for a in anchors]
    true_t = noise_transition(load_config(NOISY).noise, 10)
    assert best["transition_mae"] == pytest.approx(
        transition_mae(torch.tensor(best["transition_matrix"]), true_t), abs=1e-5
    )


def test_run_ids_without_the_key_are_unchanged_and_best_val_is_another_run():
    base = [*NOISY, *ESTIMATED, "method.estimator=some-run"]
    config = to_container(load_config(base))
    without = {**config, "method": {k: v for k, v in config["method"].items() if k != "estimate_at"}}
    assert run_id(config) == run_id(without)
    assert run_id(to_container(load_config([*base, "method.estimate_at=best_val"]))) != run_id(config)


def test_refusals(estimator, tmp_path, capsys):
    root, _ = estimator
    code = main(["train", *NOISY, "method=loss_correction", "method.estimate_at=best_val", f"output_root={tmp_path}"])
    assert code == 2 and "estimates nothing" in capsys.readouterr().err
    bare = tmp_path / "bare"
    assert (
        main(["train", "method=baseline", *NOISY, "optim.epochs=1", "memorisation_samples=0", f"output_root={bare}"])
        == 0
    )
    (run,) = list((bare / "runs").iterdir())
    code = main(
        [
            "train",
            *NOISY,
            *ESTIMATED,
            f"method.estimator={run.name}",
            "method.estimate_at=best_val",
            f"output_root={bare}",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "method.estimate_at=final" in err and "Traceback" not in err
