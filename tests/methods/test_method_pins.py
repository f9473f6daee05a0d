"""The methods package must not change what the old methods compute: run ids and a short digits run's metrics
are pinned from the code before the refactor (tests/pins/old_methods.json).

Regenerate (only when a change of results is intended, and say so in the commit), through pytest, which finds this
file's helpers by name: .venv/bin/python -m pytest tests/methods/test_method_pins.py --write-method-pins
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from presets import QUIET, noisy_split
from repo_paths import TESTS
from repro.config import load_config, to_container
from repro.runs.rundir import run_id
from repro.train import train

PIN_FILE = TESTS / "pins" / "old_methods.json"
# device=cpu: the pins are CPU numbers (a GPU's kernels differ in the last bits, and then an accuracy may differ by a
# sample); the device never enters the run id.
SHORT = ["optim.epochs=2", "data.subset=400", "data.test_subset=200", *QUIET, "device=cpu"]
NOISY = noisy_split()
# name -> overrides; each is trained for its metrics and hashed for its run id.
TRAINED = {
    "baseline": ["method=baseline"],
    "label_smoothing": ["method=label_smoothing"],
    "confidence_penalty": ["method=confidence_penalty"],
    "class_labels": ["method=class_labels"],
    "instance_labels": ["method=instance_labels"],
    "instance_labels_noisy_entropy": ["method=instance_labels", "method.curriculum=entropy", *NOISY],
}
# Only hashed (their run ids are what sweeps and finished runs are found by).
HASHED = {
    "replay_default": ["method=replay", "split=full"],
    "replay_static_class": ["method=replay", "split=full", "method.static=true", "method.learn.method=class_labels"],
    "resnet18_cifar100_instance": ["model=resnet18", "data=cifar100", "method=instance_labels"],
    "wrn_noisy_baseline": ["model=wrn28_10", "data=cifar10", "method=baseline", *NOISY],
    # The losses with a negative weight on a log-probability changed when they gained Patrini et al.'s clip
    # (repro/losses.py clipped_log_softmax): their ids are pinned after it; their unclipped siblings kept theirs.
    "forward_correction": ["method=loss_correction", "method.correction=forward", *NOISY],
    "backward_correction": ["method=loss_correction", "method.correction=backward", *NOISY],
    "identity_smearing": ["method=label_smearing", "method.smearing=identity", *NOISY],
    "negative_smoothing": ["method=label_smearing", "method.smoothing_epsilon=-0.1", *NOISY],
}
METRIC_KEYS = ("train_loss", "train_acc", "val_acc", "test_acc")


def _run_ids() -> dict[str, str]:
    return {name: run_id(to_container(load_config(ov))) for name, ov in {**TRAINED, **HASHED}.items()}


def _metrics(name: str, root: Path) -> list[dict[str, float]]:
    result = train(load_config([*SHORT, f"output_root={root}", *TRAINED[name]]))
    return [{k: r[k] for k in METRIC_KEYS if k in r} for r in result.run_dir.read_metrics()]


@pytest.fixture(scope="module")
def pins(request, tmp_path_factory) -> dict:
    """The pinned run ids and metrics; with --write-method-pins (tests/conftest.py), this code's, written first."""
    if request.config.getoption("--write-method-pins"):
        root = tmp_path_factory.mktemp("pins")
        written = {"run_ids": _run_ids(), "metrics": {n: _metrics(n, root / n) for n in TRAINED}}
        PIN_FILE.write_text(json.dumps(written, indent=1) + "\n")
    return json.loads(PIN_FILE.read_text())


@pytest.mark.slow
def test_old_methods_keep_their_run_ids(pins):
    assert _run_ids() == pins["run_ids"]


@pytest.mark.parametrize("name", list(TRAINED))
def test_old_methods_compute_what_they_computed_before(name, pins, tmp_path):
    pinned = pins["metrics"][name]
    got = _metrics(name, tmp_path)
    assert len(got) == len(pinned)
    for row, want in zip(got, pinned):
        assert row.keys() == want.keys()
        for key in want:  # accuracies are exact fractions; the loss may differ in the last bits across BLAS builds
            assert math.isclose(row[key], want[key], rel_tol=1e-5, abs_tol=1e-7), (name, key, row[key], want[key])
