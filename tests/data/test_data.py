"""Data package: splits, noise, the dataset names and CIFAR loading (from fabricated files); the batch loader:
test_loader.py; the digits: test_digits.py."""

from __future__ import annotations

import math

import pytest
import torch

from repro.data.datasets import load_dataset
from repro.data.loader import BatchLoader
from repro.data.noise.synthetic_tensors import inject_uniform_noise
from repro.data.splits import make_split
from repro.errors import UserError
from testing_support.published_files import write_cifar10, write_cifar100


def _targets(counts: list[int]) -> torch.Tensor:
    """Targets with counts[c] samples of class c, interleaved (so global order is not class order)."""
    t = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
    return t[torch.randperm(t.numel(), generator=torch.Generator().manual_seed(123))]


# ----------------------------------------------------------------------------------------------- splits


def test_split_is_deterministic_and_seed_dependent():
    targets = _targets([50, 40, 30])
    a = make_split(targets, meta_fraction=0.2, folds=5, fold=1, seed=7)
    b = make_split(targets, meta_fraction=0.2, folds=5, fold=1, seed=7)
    c = make_split(targets, meta_fraction=0.2, folds=5, fold=1, seed=8)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[1], c[1])
    for idx in a:
        assert idx.dtype == torch.int64 and torch.equal(idx, idx.sort().values)


def test_five_folds_are_disjoint_and_cover_every_sample_once():
    targets = _targets([50, 43, 31, 7])  # class sizes not divisible by 5
    metas = []
    for fold in range(5):
        train_idx, meta_idx = make_split(targets, meta_fraction=0.2, folds=5, fold=fold, seed=0)
        assert torch.equal(torch.sort(torch.cat([train_idx, meta_idx])).values, torch.arange(targets.numel()))
        metas.append(meta_idx)
    assert torch.equal(torch.sort(torch.cat(metas)).values, torch.arange(targets.numel()))


def test_split_is_stratified():
    counts = [100, 61, 37, 25]
    targets = _targets(counts)
    for fraction, folds in [(0.2, 5), (0.05, 1), (0.3, 3)]:
        for fold in range(folds):
            _, meta_idx = make_split(targets, meta_fraction=fraction, folds=folds, fold=fold, seed=3)
            per_class = torch.bincount(targets[meta_idx], minlength=len(counts))
            for c, n in enumerate(counts):
                if fold == 0:
                    assert per_class[c] == math.floor(fraction * n + 0.5)
                assert abs(int(per_class[c]) - fraction * n) < 1.0


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(meta_fraction=0.0, folds=1, fold=0), "meta_fraction"),
        (dict(meta_fraction=1.0, folds=1, fold=0), "meta_fraction"),
        (dict(meta_fraction=0.2, folds=0, fold=0), "folds"),
        (dict(meta_fraction=0.2, folds=5, fold=5), "fold"),
        (dict(meta_fraction=0.2, folds=5, fold=-1), "fold"),
        (dict(meta_fraction=0.3, folds=5, fold=0), "at most 0.2"),
    ],
)
def test_bad_split_arguments_raise_user_error(kwargs, fragment):
    with pytest.raises(UserError, match=fragment):
        make_split(_targets([20, 20]), seed=0, **kwargs)


def test_class_without_meta_samples_is_named():
    targets = _targets([100, 100, 10])
    with pytest.raises(UserError, match=r"Class 2 has 10 training samples.*Raise split.meta_fraction"):
        make_split(targets, meta_fraction=0.04, folds=5, fold=0, seed=0)
    with pytest.raises(UserError, match=r"Class 2 has 1 training samples"):
        make_split(_targets([100, 100, 1]), meta_fraction=0.02, folds=1, fold=0, seed=0)


def test_a_one_fold_split_holds_out_at_least_one_sample_of_every_class():
    """The noisy setting on a small subset (CIFAR-100 at 2000 images: 20 a class, 2% of which rounds to none)."""
    targets = _targets([100, 100, 20])
    train_idx, meta_idx = make_split(targets, meta_fraction=0.02, folds=1, fold=0, seed=0)
    assert torch.bincount(targets[meta_idx]).tolist() == [2, 2, 1]
    assert sorted(torch.cat([train_idx, meta_idx]).tolist()) == list(range(220))


# ------------------------------------------------------------------------------------------------ noise


def test_noise_rate_and_reproducibility():
    num_classes, fraction = 10, 0.4
    targets = torch.randint(0, num_classes, (100_000,), generator=torch.Generator().manual_seed(0))
    original = targets.clone()
    noisy, mask = inject_uniform_noise(targets, fraction=fraction, num_classes=num_classes, seed=5, among=None)
    assert torch.equal(targets, original)  # the true classes stay recorded in the input
    assert torch.equal(mask, noisy != targets)
    assert abs(mask.float().mean().item() - fraction * (num_classes - 1) / num_classes) < 0.006
    assert noisy.min() >= 0 and noisy.max() < num_classes
    again, _ = inject_uniform_noise(targets, fraction=fraction, num_classes=num_classes, seed=5, among=None)
    other, _ = inject_uniform_noise(targets, fraction=fraction, num_classes=num_classes, seed=6, among=None)
    assert torch.equal(noisy, again) and not torch.equal(noisy, other)


def test_noise_spares_meta_samples_and_does_not_depend_on_the_fold():
    targets = _targets([300] * 10)
    runs = []
    for fold in range(2):
        train_idx, meta_idx = make_split(targets, meta_fraction=0.2, folds=5, fold=fold, seed=0)
        noisy, mask = inject_uniform_noise(targets, fraction=0.6, num_classes=10, seed=1, among=train_idx)
        assert not mask[meta_idx].any() and torch.equal(noisy[meta_idx], targets[meta_idx])
        assert mask[train_idx].any()
        runs.append((train_idx, noisy))
    common = torch.tensor(sorted(set(runs[0][0].tolist()) & set(runs[1][0].tolist())))
    assert torch.equal(runs[0][1][common], runs[1][1][common])
    as_mask = torch.zeros(targets.numel(), dtype=torch.bool)
    as_mask[runs[0][0]] = True
    by_mask, _ = inject_uniform_noise(targets, fraction=0.6, num_classes=10, seed=1, among=as_mask)
    assert torch.equal(by_mask, runs[0][1])


def test_zero_noise_changes_nothing():
    targets = _targets([30, 30])
    noisy, mask = inject_uniform_noise(targets, fraction=0.0, num_classes=2, seed=0, among=None)
    assert torch.equal(noisy, targets) and not mask.any()


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 1.5])
def test_bad_noise_fraction_raises_user_error(fraction):
    with pytest.raises(UserError, match="noise.fraction"):
        inject_uniform_noise(_targets([5, 5]), fraction=fraction, num_classes=2, seed=0, among=None)


def test_noise_rejects_targets_outside_the_classes():
    with pytest.raises(UserError, match="num_classes"):
        inject_uniform_noise(torch.tensor([0, 1, 5]), fraction=0.2, num_classes=3, seed=0, among=None)


def test_unknown_dataset_lists_the_names():
    with pytest.raises(UserError, match="digits, cifar10, cifar100"):
        load_dataset("mnist", None)


# ------------------------------------------------------------------------------------------------- CIFAR


@pytest.mark.parametrize("name, make", [("cifar10", write_cifar10), ("cifar100", write_cifar100)])
def test_cifar_loads_from_the_torchvision_layout(tmp_path, monkeypatch, name, make):
    fake = make(tmp_path)
    fake.patch_checksums(monkeypatch)
    train, test = load_dataset(name, str(tmp_path))
    assert train.images.shape == (len(fake.train_labels), 3, 32, 32) and train.images.dtype == torch.uint8
    assert torch.equal(train.images, torch.from_numpy(fake.train_images).permute(0, 3, 1, 2))
    assert torch.equal(test.images, torch.from_numpy(fake.test_images).permute(0, 3, 1, 2))
    assert train.targets.tolist() == fake.train_labels and test.targets.tolist() == fake.test_labels
    assert train.classes == fake.classes and train.augment and len(train.mean) == 3
    # A CIFAR-shaped batch goes through the loader with augmentation.
    loader = BatchLoader(
        train.images,
        train.targets,
        torch.arange(len(train)),
        batch_size=4,
        shuffle=True,
        augment=train.augment,
        mean=train.mean,
        std=train.std,
        generator=torch.Generator(),
    )
    assert next(iter(loader))[0].shape == (4, 3, 32, 32)


@pytest.mark.parametrize("name, folder", [("cifar10", "cifar-10-batches-py"), ("cifar100", "cifar-100-python")])
def test_missing_cifar_is_a_clear_user_error(tmp_path, name, folder):
    missing = tmp_path / "nowhere"
    with pytest.raises(UserError) as info:
        load_dataset(name, str(missing))
    message = str(info.value)
    assert str(missing) in message and folder in message and "https://www.cs.toronto.edu/~kriz/cifar.html" in message
    with pytest.raises(UserError, match="data.root"):
        load_dataset(name, None)


@pytest.mark.parametrize(
    "name, make, victim", [("cifar10", write_cifar10, "data_batch_3"), ("cifar100", write_cifar100, "test")]
)
def test_corrupted_cifar_file_is_named(tmp_path, monkeypatch, name, make, victim):
    fake = make(tmp_path)
    fake.patch_checksums(monkeypatch)
    path = fake.folder / victim
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(UserError, match=rf"MD5 mismatch\) {victim}\b") as info:
        load_dataset(name, str(tmp_path))
    assert str(fake.folder) in str(info.value)


def test_missing_cifar_file_is_named(tmp_path, monkeypatch):
    fake = write_cifar10(tmp_path)
    fake.patch_checksums(monkeypatch)
    (fake.folder / "batches.meta").unlink()
    (fake.folder / "test_batch").unlink()
    with pytest.raises(UserError, match=r"missing test_batch") as info:
        load_dataset("cifar10", str(tmp_path))
    assert str(fake.folder) in str(info.value)


def test_real_checksums_refuse_fabricated_files(tmp_path):
    """Without the test's patch, torchvision's MD5 check stays on: fake files are refused."""
    write_cifar10(tmp_path)
    with pytest.raises(UserError, match="MD5 mismatch"):
        load_dataset("cifar10", str(tmp_path))
