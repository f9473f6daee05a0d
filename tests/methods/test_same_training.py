"""Two planned runs are the same training when they compute the same loss on the same data with the same everything
else (repro/methods/same_training.py): the smearing family's members across methods, and no sweep file plans two
runs of one training."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from repo_paths import EVERY_SWEEP, REPO
from repro.config import load_config, to_container
from repro.methods.same_training import training_key
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.sweep_file import load_sweep

SWEEPS = REPO / "sweeps"
NOISE = ["noise=uniform", "noise.fraction=0.2", "split=noisy"]


def _key(*overrides: str) -> str | None:
    return training_key(to_container(load_config([*NOISE, *overrides])))


def test_members_of_the_smearing_family_are_one_training_across_methods():
    one_hot = _key("method=baseline")
    assert one_hot == _key("method=label_smearing", "method.smearing=identity")
    smoothing = _key("method=label_smoothing", "method.epsilon=0.2")
    assert smoothing == _key("method=label_smearing", "method.smoothing_epsilon=0.2")
    backward = _key("method=loss_correction", "method.correction=backward")  # the known T of 20% symmetric noise
    assert backward == _key("method=label_smearing", "method.smearing=backward")
    assert backward == _key("method=label_smearing", "method.smoothing_epsilon=-0.25")  # -f / (1 - f)


def test_different_losses_data_or_seeds_are_different_trainings():
    backward = _key("method=loss_correction", "method.correction=backward")
    others = [
        _key("method=label_smearing", "method.smoothing_epsilon=-0.1"),
        _key("method=loss_correction", "method.correction=forward"),
        _key("method=confidence_penalty"),  # one-hot targets and the penalty: not a smearing
        _key("method=loss_correction", "method.correction=backward", "seed=1"),
        _key("method=loss_correction", "method.correction=backward", "noise.fraction=0.4"),
        _key("method=loss_correction", "method.correction=backward", "data.subset=500"),
    ]
    assert backward not in others and len(set(others)) == len(others)
    assert _key("method=label_smoothing", "method.epsilon=0.2") != _key("method=baseline") not in others
    tuned = "tune={keys: [method.epsilon], runs: [{run: r, values: [0.1]}], select: final_val_acc, chosen: null}"
    assert _key("method=label_smoothing", tuned) is None  # decided when it starts, from its tuning runs


def _duplicates(path: Path) -> list[list[tuple]]:
    """Groups of distinct planned runs of one sweep file (its first seed: the seed is in every run's config, so two
    rows that differ at one seed differ at all) that are the same training."""
    spec = load_sweep(path)
    groups: dict[str, dict[str, tuple]] = defaultdict(dict)
    for run in expand_sweep(spec.select(seeds=spec.seeds[:1]), output_root="same-training"):
        key = training_key(run.config)
        if key is not None:
            groups[key][run.run_id] = (run.row, run.column, run.stage)
    return [sorted(g.values()) for g in groups.values() if len(g) > 1]


def test_lukasik_plans_no_two_runs_of_one_training():
    assert _duplicates(SWEEPS / "lukasik.yaml") == []


@pytest.mark.slow
@pytest.mark.xdist_group(EVERY_SWEEP)  # after the other tests that expand every sweep file: their compositions warm
def test_no_sweep_file_plans_two_runs_of_one_training():
    found = {path.relative_to(SWEEPS): _duplicates(path) for path in sorted(SWEEPS.rglob("*.yaml"))}
    assert len(found) > 20
    assert {path: groups for path, groups in found.items() if groups} == {}
