"""CIFAR-10 and CIFAR-100 in the python version's published format (the layout torchvision reads), for tests: where
each detail comes from is in testing_support/published_files.py, which re-exports these writers."""

from __future__ import annotations

import hashlib
import io
import pickle
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
CIFAR100_CLASSES = (
    "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can castle "
    "caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin elephant "
    "flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man "
    "maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree "
    "plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper "
    "snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television tiger tractor train "
    "trout "
    "tulip turtle wardrobe whale willow_tree wolf woman worm"
).split()
CIFAR100_SUPERCLASSES = (
    "aquatic_mammals fish flowers food_containers fruit_and_vegetables household_electrical_devices "
    "household_furniture insects large_carnivores large_man-made_outdoor_things large_natural_outdoor_scenes "
    "large_omnivores_and_herbivores medium_mammals non-insect_invertebrates people reptiles small_mammals trees "
    "vehicles_1 vehicles_2"
).split()
CIFAR100_COARSE_OF_FINE = [
    4, 1, 14, 8, 0, 6, 7, 7, 18, 3, 3, 14, 9, 18, 7, 11, 3, 9, 7, 11, 6, 11, 5, 10, 7,
    6, 13, 15, 3, 15, 0, 11, 1, 10, 12, 14, 16, 9, 11, 5, 5, 19, 8, 8, 15, 13, 14, 17, 18, 10,
    16, 4, 17, 4, 2, 0, 17, 4, 18, 17, 10, 3, 2, 12, 12, 16, 12, 1, 9, 19, 2, 10, 0, 1, 16,
    12, 9, 13, 15, 13, 16, 19, 2, 4, 6, 19, 5, 5, 8, 19, 18, 1, 2, 15, 6, 0, 17, 8, 14, 13,
]  # fmt: skip
_NUMPY2_RECONSTRUCT = b"cnumpy._core.multiarray\n_reconstruct\n"  # numpy 2's name of the module
_NUMPY1_RECONSTRUCT = b"cnumpy.core.multiarray\n_reconstruct\n"  # numpy 1's, which wrote the published files


@dataclass
class FakeCifar:
    """A written CIFAR: where it is, its arrays, and the md5 of each file (name -> md5)."""

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
        """Make torchvision expect these files' md5s, for this test only (it checks them before unpickling)."""
        self.trust_checksums(monkeypatch.setattr)

    def trust_checksums(self, set_attribute: Callable[[Any, str, Any], None] = setattr) -> None:
        """The same for this whole process (a script, a benchmark)."""
        cls = self.dataset_class
        set_attribute(cls, "train_list", [[name, self.md5[name]] for name, _ in cls.train_list])
        set_attribute(cls, "test_list", [[name, self.md5[name]] for name, _ in cls.test_list])
        set_attribute(cls, "meta", {**cls.meta, "md5": self.md5[cls.meta["filename"]]})


def write_cifar10(root: str | Path, *, per_batch: int = 4, n_test: int = 6, seed: int = 0) -> FakeCifar:
    """`<root>/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}` (5 * per_batch training images)."""
    from torchvision.datasets import CIFAR10

    rng = np.random.default_rng(seed)
    folder = Path(root) / CIFAR10.base_folder
    folder.mkdir(parents=True, exist_ok=True)
    colours = _class_colours(rng, 10)
    md5, all_rows, all_labels = {}, *_rows(rng, 5 * per_batch, colours)
    for i in range(1, 6):
        part = slice((i - 1) * per_batch, i * per_batch)
        batch = _cifar10_batch(f"training batch {i} of 5", all_rows[part], all_labels[part])
        md5[f"data_batch_{i}"] = _write(folder / f"data_batch_{i}", batch)
    rows, labels = _rows(rng, n_test, colours)
    md5["test_batch"] = _write(folder / "test_batch", _cifar10_batch("testing batch 1 of 1", rows, labels))
    meta = {b"num_cases_per_batch": per_batch, b"label_names": [c.encode() for c in CIFAR10_CLASSES], b"num_vis": 3072}
    md5["batches.meta"] = _write(folder / "batches.meta", meta)
    train = _to_hwc(all_rows)
    return FakeCifar(Path(root), folder, CIFAR10, md5, train, all_labels, _to_hwc(rows), labels, list(CIFAR10_CLASSES))


def write_cifar100(root: str | Path, *, n_train: int = 12, n_test: int = 6, seed: int = 0) -> FakeCifar:
    """`<root>/cifar-100-python/{train, test, meta}`: 100 fine classes in 20 superclasses."""
    rng = np.random.default_rng(seed)
    colours = _class_colours(rng, 100)
    return write_cifar100_files(root, _rows(rng, n_train, colours), _rows(rng, n_test, colours))


def write_cifar100_files(
    root: str | Path, train: tuple[np.ndarray, list[int]], test: tuple[np.ndarray, list[int]]
) -> FakeCifar:
    """CIFAR-100's three files for these (rows uint8 [n, 3072], fine labels) of the training and test sets."""
    from torchvision.datasets import CIFAR100

    folder = Path(root) / CIFAR100.base_folder
    folder.mkdir(parents=True, exist_ok=True)
    md5 = {}
    for split, (rows, labels), title in (("train", train, "training"), ("test", test, "testing")):
        entry = {
            b"filenames": _filenames(labels, CIFAR100_CLASSES),
            b"batch_label": f"{title} batch 1 of 1".encode(),
            b"fine_labels": labels,
            b"coarse_labels": [CIFAR100_COARSE_OF_FINE[label] for label in labels],
            b"data": rows,
        }
        md5[split] = _write(folder / split, entry)
    meta = {
        b"fine_label_names": [c.encode() for c in CIFAR100_CLASSES],
        b"coarse_label_names": [c.encode() for c in CIFAR100_SUPERCLASSES],
    }
    md5["meta"] = _write(folder / "meta", meta)
    images = [_to_hwc(rows) for rows, _ in (train, test)]
    return FakeCifar(Path(root), folder, CIFAR100, md5, images[0], train[1], images[1], test[1], list(CIFAR100_CLASSES))


def _cifar10_batch(batch_label: str, rows: np.ndarray, labels: list[int]) -> dict:
    return {
        b"batch_label": batch_label.encode(),
        b"labels": labels,
        b"data": rows,
        b"filenames": _filenames(labels, CIFAR10_CLASSES),
    }


def _class_colours(rng: np.random.Generator, num_classes: int) -> np.ndarray:
    """One colour per class (the images are learnable in an epoch: a loss-correction row then gets a usable T)."""
    return rng.uniform(20, 235, size=(num_classes, 3))


def _rows(rng: np.random.Generator, n: int, colours: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """n images as CIFAR rows (uint8 [n, 3072]: 1024 red, 1024 green, 1024 blue, each row-major) and their labels:
    every class equally often (as in CIFAR's training and test sets) in random order; an image is its class's colour,
    jittered per image, plus pixel noise."""
    labels = rng.permutation(np.arange(n) % len(colours))
    colour = colours[labels] + rng.normal(0, 6, size=(n, 3))
    pixels = np.repeat(colour, 1024, axis=1) + rng.integers(-12, 13, size=(n, 3072))
    return np.clip(pixels, 0, 255).astype(np.uint8), [int(v) for v in labels]


def _filenames(labels: list[int], names: list[str]) -> list[bytes]:
    return [f"{names[label]}_s_{i:06d}.png".encode() for i, label in enumerate(labels)]


def _to_hwc(rows: np.ndarray) -> np.ndarray:
    return rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


class _Python2Pickler(pickle._Pickler):  # the pure-Python pickler lets us choose how strings are written
    """Protocol 2 as Python 2's cPickle wrote the CIFAR files: every string (bytes or str here) as a Python 2 `str`
    (SHORT_BINSTRING / BINSTRING)."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj: bytes | str) -> None:
        raw = obj.encode("latin1") if isinstance(obj, str) else obj
        if len(raw) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(raw)]) + raw)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(raw)) + raw)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str
    dispatch[str] = save_py2_str


def _write(path: Path, obj: object) -> str:
    """Pickle `obj` as the CIFAR files are pickled; the file's md5."""
    buffer = io.BytesIO()
    _Python2Pickler(buffer, protocol=2).dump(obj)
    data = buffer.getvalue().replace(_NUMPY2_RECONSTRUCT, _NUMPY1_RECONSTRUCT)
    path.write_bytes(data)
    return hashlib.md5(data).hexdigest()
