"""MNIST-1D (Greydanus and Kobak, "Scaling down deep learning with MNIST-1D", ICML 2024): the 1-D digits, 40 values
long, generated on this machine by the `mnist1d` package's `make_dataset` from the arguments the config pins
(`data.generator`, repro/conf/data/mnist1d.yaml: the package's own defaults, 4,000 training and 1,000 test samples).

Never downloads: the package's `get_dataset` fetches a pickle from GitHub (and would unpickle it), so it is never
called. What `make_dataset` returns is cached as a plain .npz (no pickle) in the user's cache, one file per set of
arguments, written atomically: a second run, or a second process at once, reads the same numbers.

`make_dataset` seeds numpy's and Python's global random generators (`mnist1d.utils.set_seed`); their states are
saved and restored around it, so generating the data never changes a run's own randomness.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator, Mapping

import numpy as np
import torch

from repro.data.arrays import ArrayDataset
from repro.errors import UserError
from repro.runs.io import atomic_write_bytes

# Bumped when what is cached for the same arguments changes (the arrays kept, their dtype).
CACHE_FORMAT = 1
# The package's arguments that are not the data's: where `get_dataset` would download from.
NOT_GENERATOR_ARGUMENTS = ("url",)


def cache_dir() -> Path:
    """$REPRO_MNIST1D_CACHE, else $XDG_CACHE_HOME/repro/mnist1d, else ~/.cache/repro/mnist1d."""
    if os.environ.get("REPRO_MNIST1D_CACHE"):
        return Path(os.environ["REPRO_MNIST1D_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "repro" / "mnist1d"


def load_mnist1d(generator: Mapping[str, Any] | None) -> tuple[ArrayDataset, ArrayDataset]:
    """(train, test) as float32 signals [N, 1, 1, length]; mean / std from the training signals, no augmentation."""
    arguments = generator_arguments(generator)
    x, y, x_test, y_test = _cached_arrays(arguments)
    classes = [str(c) for c in range(10)]
    as_signals = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))[:, None, None, :]  # noqa: E731
    train = ArrayDataset(as_signals(x), torch.from_numpy(y.astype(np.int64)), classes, augment=False)
    test = ArrayDataset(
        as_signals(x_test), torch.from_numpy(y_test.astype(np.int64)), classes, train.mean, train.std, augment=False
    )
    return train, test


def generator_arguments(generator: Mapping[str, Any] | None) -> dict[str, Any]:
    """The config's `data.generator` checked against the installed package's `get_dataset_args()`: every argument
    it takes but `url`, no other, each of the package default's type (None: the package's defaults)."""
    from mnist1d.data import get_dataset_args  # deferred: the package imports matplotlib.pyplot and requests

    defaults = {k: v for k, v in get_dataset_args(as_dict=True).items() if k not in NOT_GENERATOR_ARGUMENTS}
    given = dict(defaults if generator is None else generator)
    unknown = sorted(set(given) - set(defaults))
    missing = sorted(set(defaults) - set(given))
    wrong = [k for k in sorted(set(given) & set(defaults)) if not _same_kind(given[k], defaults[k])]
    if unknown or missing or wrong:
        problems = [
            *([f"unknown {', '.join(unknown)}"] if unknown else []),
            *([f"missing {', '.join(missing)}"] if missing else []),
            *[f"{k}={given[k]!r} where the package's default is {defaults[k]!r}" for k in wrong],
        ]
        raise UserError(
            f"data.generator cannot be handed to mnist1d's make_dataset: {'; '.join(problems)}. It takes exactly "
            f"the package's arguments but url ({', '.join(defaults)}), each of its default's type; "
            "repro/conf/data/mnist1d.yaml lists them at their defaults. Change a value there or with "
            "data.generator.<key>=<value> (for more samples: data.generator.num_samples=10000)."
        )
    return {k: given[k] for k in defaults}


def _same_kind(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, list):
        same_length = isinstance(value, (list, tuple)) and len(value) == len(default)
        return same_length and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    return isinstance(value, type(default))


def cache_path(arguments: Mapping[str, Any]) -> Path:
    """One file per set of arguments, package version and cache format: the hash of their canonical JSON (another
    release of the package may generate other signals from the same arguments)."""
    key = {"format": CACHE_FORMAT, "package": version("mnist1d"), **_plain(arguments)}
    canonical = json.dumps(key, sort_keys=True, separators=(",", ":"))
    return cache_dir() / f"{hashlib.sha256(canonical.encode()).hexdigest()[:16]}.npz"


def _plain(arguments: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, (list, tuple)) else v for k, v in arguments.items()}


def _cached_arrays(arguments: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    path = cache_path(arguments)
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as stored:
                return stored["x"], stored["y"], stored["x_test"], stored["y_test"]
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache file: generated again and replaced below
    arrays = generate(arguments)
    buffer = io.BytesIO()
    np.savez(buffer, **dict(zip(("x", "y", "x_test", "y_test"), arrays)))
    atomic_write_bytes(path, buffer.getvalue())
    return arrays


def generate(arguments: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """make_dataset's (x, y, x_test, y_test), the global random generators left as they were."""
    from mnist1d.data import make_dataset  # deferred: the package imports matplotlib.pyplot and requests

    with _global_rng_kept():
        data = make_dataset(SimpleNamespace(**_plain(arguments)))
    if len(data["y"]) == 0 or len(data["y_test"]) == 0:
        raise UserError(
            f"data.generator with num_samples={arguments['num_samples']} and train_split={arguments['train_split']} "
            f"leaves {len(data['y'])} training and {len(data['y_test'])} test samples; each needs at least one. "
            "Raise data.generator.num_samples (the default is 5000) or move train_split inside (0, 1)."
        )
    return (
        data["x"].astype(np.float32),
        data["y"].astype(np.int64),
        data["x_test"].astype(np.float32),
        data["y_test"].astype(np.int64),
    )


@contextmanager
def _global_rng_kept() -> Iterator[None]:
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        yield
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
