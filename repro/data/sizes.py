"""How many samples a run trains, validates and tests on, from its config alone (no data loaded): what the sweep's
cost estimate (repro/sweep/budget/costs.py) and successive halving's rungs (repro/sweep/expand/halving.py, for a
schedule counted in iterations) need before any run has started."""

from __future__ import annotations

import math
from typing import Any, Mapping

from repro.errors import UserError

# (train, test) sizes of the data sets, as loaded (digits: the fixed 70/30 split of its 1797 images).
DATA_SIZES = {"cifar10": (50000, 10000), "cifar100": (50000, 10000), "digits": (1258, 539)}


def run_sizes(config: Mapping[str, Any]) -> tuple[int, int, int]:
    """(train samples, meta/validation samples, test samples) of a run, from its config alone."""
    data, split = config["data"], config["split"]
    if data["name"] not in DATA_SIZES:
        raise UserError(f"No known size for data set {data['name']!r}; known: {', '.join(DATA_SIZES)}.")
    train, test = DATA_SIZES[data["name"]]
    train = min(train, int(data.get("subset") or train))
    test = min(test, int(data.get("test_subset") or test))
    meta = 0 if split.get("full_train") else int(math.floor(float(split["meta_fraction"]) * train + 0.5))
    return train - meta, meta, test
