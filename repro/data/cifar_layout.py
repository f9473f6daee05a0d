"""CIFAR-10 and CIFAR-100 as torchvision reads them (the python version: the archive, the folder it extracts to, the
files in it) and the per-channel statistics runs normalise with. No torch here: `repro doctor` and `repro data`
name the folders without loading it; repro/data/cifar.py loads the data, repro/data/published.py fetches it."""

from __future__ import annotations

from dataclasses import dataclass

CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar.html"


@dataclass(frozen=True)
class CifarSpec:
    """What differs between CIFAR-10 and CIFAR-100 for loading and for the error message."""

    title: str
    archive: str
    folder: str
    files: str
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


# Per-channel statistics of the training images (0..1 scale), the constants in common use.
SPECS = {
    "cifar10": CifarSpec(
        "CIFAR-10",
        "cifar-10-python.tar.gz",
        "cifar-10-batches-py",
        "data_batch_1 .. data_batch_5, test_batch, batches.meta",
        (0.4914, 0.4822, 0.4465),
        (0.2470, 0.2435, 0.2616),
    ),
    "cifar100": CifarSpec(
        "CIFAR-100",
        "cifar-100-python.tar.gz",
        "cifar-100-python",
        "train, test, meta",
        (0.5071, 0.4865, 0.4409),
        (0.2673, 0.2564, 0.2762),
    ),
}
