"""Fabricate tiny CIFAR-10 / CIFAR-100 directories in the exact torchvision layout, for tests.

The real files are Python 2 pickles: dict keys and the array buffers are Python 2 `str`, which loads as `str`
with encoding="latin1" (torchvision) and as `bytes` with encoding="bytes" (the recipe on the CIFAR page). We
write the same opcodes, so both readers see what they would see in the real files. The MD5s of the fabricated
files are returned so a test can patch torchvision's expected checksums (never weakened for users).
"""

from __future__ import annotations

import hashlib
import io
import pickle
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


class _Python2Pickler(pickle._Pickler):  # the pure-Python pickler lets us override how bytes are written
    """Protocol 2 pickler that writes `bytes` as Python 2 `str` (SHORT_BINSTRING / BINSTRING)."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_bytes_as_py2_str(self, obj: bytes) -> None:
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_bytes_as_py2_str


def _py2_pickle(obj: object) -> bytes:
    buffer = io.BytesIO()
    _Python2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


@dataclass
class FakeCifar:
    """A fabricated data set: where it is, its arrays, and the MD5 of each file (name -> md5)."""

    root: Path
    folder: Path
    dataset_class: type
    md5: dict[str, str]
    train_images: np.ndarray  # uint8 [N, 32, 32, 3] (HWC, as torchvision's .data)
    train_labels: list[int]
    test_images: np.ndarray
    test_labels: list[int]
    classes: list[str] = field(default_factory=list)

    def patch_checksums(self, monkeypatch) -> None:
        """Make torchvision expect this fabricated data set's MD5s (for this test only)."""
        cls = self.dataset_class
        monkeypatch.setattr(cls, "train_list", [[name, self.md5[name]] for name, _ in cls.train_list])
        monkeypatch.setattr(cls, "test_list", [[name, self.md5[name]] for name, _ in cls.test_list])
        monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": self.md5[cls.meta["filename"]]})


def make_fake_cifar10(root: str | Path, *, per_batch: int = 4, n_test: int = 6, seed: int = 0) -> FakeCifar:
    """Write `<root>/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}` (5*per_batch train images)."""
    from torchvision.datasets import CIFAR10

    rng = np.random.default_rng(seed)
    folder = Path(root) / CIFAR10.base_folder
    folder.mkdir(parents=True, exist_ok=True)
    md5: dict[str, str] = {}
    train_rows, train_labels = [], []
    for i in range(1, 6):
        rows, labels = _random_rows(rng, per_batch, 10)
        entry = _batch_dict(f"training batch {i} of 5", rows, labels, "labels")
        md5[f"data_batch_{i}"] = _write(folder / f"data_batch_{i}", entry)
        train_rows.append(rows)
        train_labels += labels
    rows, labels = _random_rows(rng, n_test, 10)
    md5["test_batch"] = _write(folder / "test_batch", _batch_dict("testing batch 1 of 1", rows, labels, "labels"))
    label_names = [c.encode() for c in CIFAR10_CLASSES]
    meta = {b"num_cases_per_batch": per_batch, b"label_names": label_names, b"num_vis": 3072}
    md5["batches.meta"] = _write(folder / "batches.meta", meta)
    train_images = _to_hwc(np.vstack(train_rows))
    test_images = _to_hwc(rows)
    classes = list(CIFAR10_CLASSES)
    return FakeCifar(Path(root), folder, CIFAR10, md5, train_images, train_labels, test_images, labels, classes)


def make_fake_cifar100(root: str | Path, *, n_train: int = 12, n_test: int = 6, seed: int = 0) -> FakeCifar:
    """Write `<root>/cifar-100-python/{train, test, meta}` with 100 fine and 20 coarse classes."""
    from torchvision.datasets import CIFAR100

    rng = np.random.default_rng(seed)
    folder = Path(root) / CIFAR100.base_folder
    folder.mkdir(parents=True, exist_ok=True)
    fine_names = [f"fine_class_{i:02d}" for i in range(100)]
    md5: dict[str, str] = {}
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        rows, labels = _random_rows(rng, n, 100)
        entry = _batch_dict(split, rows, labels, "fine_labels")
        entry[b"coarse_labels"] = [label // 5 for label in labels]
        md5[split] = _write(folder / split, entry)
        arrays[split] = (rows, labels)
    meta = {
        b"fine_label_names": [c.encode() for c in fine_names],
        b"coarse_label_names": [f"coarse_{i}".encode() for i in range(20)],
    }
    md5["meta"] = _write(folder / "meta", meta)
    (train_rows, train_labels), (test_rows, test_labels) = arrays["train"], arrays["test"]
    train_images, test_images = _to_hwc(train_rows), _to_hwc(test_rows)
    return FakeCifar(
        Path(root), folder, CIFAR100, md5, train_images, train_labels, test_images, test_labels, fine_names
    )


def _random_rows(rng: np.random.Generator, n: int, num_classes: int) -> tuple[np.ndarray, list[int]]:
    """n images as CIFAR rows (uint8 [n, 3072]: 1024 red, 1024 green, 1024 blue, each row-major)."""
    return rng.integers(0, 256, size=(n, 3072), dtype=np.uint8), [int(v) for v in rng.integers(0, num_classes, size=n)]


def _batch_dict(batch_label: str, rows: np.ndarray, labels: list[int], label_key: str) -> dict:
    filenames = [f"fake_{i:05d}.png".encode() for i in range(len(labels))]
    return {b"batch_label": batch_label.encode(), label_key.encode(): labels, b"data": rows, b"filenames": filenames}


def _to_hwc(rows: np.ndarray) -> np.ndarray:
    return rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def _write(path: Path, obj: object) -> str:
    data = _py2_pickle(obj)
    path.write_bytes(data)
    return hashlib.md5(data).hexdigest()
