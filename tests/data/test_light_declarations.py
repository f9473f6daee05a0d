"""What the reporting commands read of repro/data/ loads no torch: `repro tables` and `repro ledger` ask of every
planned run whether its config is noisy (`describes_noise`, the noise model's declaration) and the sweep's cost reads
a run's sizes (repro/data/sizes.py); neither trains, and torch's import was seconds of either command. The tensor
work stays where a run reaches it, and the package still exports every name it did."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import repro.data.noise as noise_package
from repo_paths import REPO
from repro.conf.schema import NOISE_OPTIONS
from repro.data.noise import apply, checks, describes_noise, noise_model_class, synthetic_tensors

# A config of each built-in model -> whether it is noise: the answers the declarations give without torch.
NOISE_CONFIGS = [
    ({"kind": "none"}, False),
    ({"kind": "uniform", "fraction": 0.0, "seed": 0}, False),
    ({"kind": "uniform", "fraction": 0.4, "seed": 0}, True),
    ({"kind": "exact_fraction", "fraction": 0.0}, False),
    ({"kind": "exact_fraction", "fraction": 0.2, "seed": 1}, True),
    ({"kind": "cifar_n", "type": "worse"}, True),
    ({"kind": "annotators", "type": "aggre"}, True),
]
RUN = {"data": {"name": "cifar10"}, "split": {"meta_fraction": 0.02}}
HEAVY = ("torch", "torchvision")

PROBE = f"""
import json, sys
from repro.data.noise import NOISE_MODELS, describes_noise, noise_model_class
from repro.data.sizes import run_sizes
answers = [describes_noise(cfg) for cfg, _ in {NOISE_CONFIGS!r}]
declared = {{kind: [noise_model_class(kind).annotations, sorted(noise_model_class(kind).Options.__annotations__)]
            for kind in NOISE_MODELS}}
sizes = run_sizes({RUN!r})
print(json.dumps({{"loaded": sorted(m for m in {HEAVY!r} if m in sys.modules), "answers": answers,
                  "declared": declared, "sizes": sizes}}))
"""


@pytest.fixture(scope="module")
def fresh_process() -> dict:
    """What a fresh interpreter loads and answers after importing the declarations and calling them."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_the_noise_declarations_and_a_runs_sizes_load_no_torch(fresh_process):
    assert fresh_process["loaded"] == [], (
        f"reading whether a config is noisy, or a run's sizes, loads {fresh_process['loaded']}: keep the tensor work "
        "in the torch modules the models' methods import when called (repro/data/noise/registry.py)"
    )


@pytest.mark.slow
def test_without_torch_each_model_answers_as_with_it(fresh_process):
    """The answers in the light process are those of this one (torch loaded), and those the models mean."""
    assert fresh_process["answers"] == [noisy for _, noisy in NOISE_CONFIGS]
    assert fresh_process["answers"] == [describes_noise(cfg) for cfg, _ in NOISE_CONFIGS]
    declared = fresh_process["declared"]  # the built-in models (a test may register more in this process)
    assert set(declared) == {cfg["kind"] for cfg, _ in NOISE_CONFIGS}  # every one of them asked above
    assert declared == {
        kind: [noise_model_class(kind).annotations, sorted(noise_model_class(kind).Options.__annotations__)]
        for kind in declared
    }


def test_the_package_still_exports_its_torch_side_names():
    """`from repro.data.noise import inject_noise` (and the others) reach the torch modules that define them."""
    for name, module in [
        ("inject_noise", apply),
        ("transition_matrix", apply),
        ("actual_noise_rate", apply),
        ("load_file_noise", apply),
        ("check_inputs", checks),
        ("corrupted_count", synthetic_tensors),
        ("inject_uniform_noise", synthetic_tensors),
        ("inject_exact_fraction_noise", synthetic_tensors),
    ]:
        assert getattr(noise_package, name) is getattr(module, name)
    assert all(hasattr(noise_package, name) for name in noise_package.__all__)
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        noise_package.not_a_name  # noqa: B018


def test_importing_the_package_fills_the_configs_noise_keys():
    assert NOISE_OPTIONS({"kind": "uniform"}, "noise") is noise_model_class("uniform").Options
