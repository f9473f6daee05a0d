"""The embedded digits (repro/data/datasets.py): scikit-learn's 8x8 images, read from the file it ships without
importing it, once per process, on a fixed stratified split."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from repro.data import datasets
from repro.data.datasets import load_dataset


@pytest.fixture
def fresh_digits():
    """The per-process cache of the digits emptied before and after the test, so that the test reads the file."""
    datasets.digits_arrays.cache_clear()
    yield
    datasets.digits_arrays.cache_clear()


def test_digits_loads_a_fixed_stratified_split():
    train, test = load_dataset("digits", None)
    assert train.images.dtype == torch.uint8 and train.images.shape[1:] == (1, 8, 8)
    assert len(train) + len(test) == 1797 and abs(len(test) / 1797 - 0.3) < 0.01
    assert train.classes == [str(i) for i in range(10)] and train.num_classes == 10
    assert int(train.images.max()) == 255 and int(train.images.min()) == 0
    assert train.targets.dtype == torch.int64 and set(test.targets.tolist()) == set(range(10))
    assert not train.augment and train.mean == test.mean and len(train.mean) == 1
    assert torch.equal(load_dataset("digits", None)[1].images, test.images)


def test_the_digits_are_scikit_learns_read_without_importing_it(fresh_digits, monkeypatch):
    bunch = load_digits()
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, name)  # as in a fresh process (put back after the test)
    images, labels = datasets.digits_arrays()
    assert not [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]
    assert images.dtype == bunch.images.dtype and np.array_equal(images, bunch.images)
    assert labels.dtype == bunch.target.dtype and np.array_equal(labels, bunch.target)
    assert [str(c) for c in bunch.target_names] == load_dataset("digits", None)[0].classes
    assert datasets.digits_arrays() is datasets.digits_arrays()  # read once per process
    with pytest.raises(ValueError):  # shared between runs: nobody may write into them
        images[0, 0, 0] = 1.0


def test_a_scikit_learn_that_moved_the_file_is_asked_the_usual_way(fresh_digits, monkeypatch):
    monkeypatch.setattr(datasets, "DIGITS_FILE", ("datasets", "data", "moved.csv.gz"))
    images, labels = datasets.digits_arrays()
    bunch = load_digits()
    assert np.array_equal(images, bunch.images) and np.array_equal(labels, bunch.target)
