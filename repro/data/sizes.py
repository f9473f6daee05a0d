"""How many samples a run trains, validates and tests on, from its config alone (no data loaded): what the sweep's
cost estimate (repro/sweep/budget/costs.py) and successive halving's rungs (repro/sweep/stages/tune/halving_runs.py,
for a
schedule counted in iterations) need before any run has started."""

from __future__ import annotations

import math
from typing import Any, Mapping

from repro.errors import UserError

# (train, test) sizes of the data sets, as loaded (digits: the fixed 70/30 split of its 1797 images; MNIST-1D: at
# its default arguments, see generated_sizes).
DATA_SIZES = {"cifar10": (50000, 10000), "cifar100": (50000, 10000), "digits": (1258, 539), "mnist1d": (4000, 1000)}


def generated_sizes(generator: Mapping[str, Any]) -> tuple[int, int]:
    """(train, test) sizes MNIST-1D's make_dataset gives for `data.generator`, without generating: num_samples // 10
    samples of each class, the first int(total * train_split) of them for training (repro/data/mnist1d.py)."""
    total = int(generator["num_samples"]) // 10 * 10
    train = int(total * float(generator["train_split"]))
    return train, total - train


def run_sizes(config: Mapping[str, Any]) -> tuple[int, int, int]:
    """(train samples, meta/validation samples, test samples) of a run, from its config alone."""
    data, split = config["data"], config["split"]
    if data["name"] not in DATA_SIZES:
        raise UserError(f"No known size for data set {data['name']!r}; known: {', '.join(DATA_SIZES)}.")
    train, test = generated_sizes(data["generator"]) if data.get("generator") else DATA_SIZES[data["name"]]
    train = min(train, int(data.get("subset") or train))
    test = min(test, int(data.get("test_subset") or test))
    meta = 0 if split.get("full_train") else int(math.floor(float(split["meta_fraction"]) * train + 0.5))
    return train - meta, meta, test
