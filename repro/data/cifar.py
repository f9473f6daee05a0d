"""CIFAR-10 / CIFAR-100 from the standard torchvision directory layout; a run never downloads (`repro data download`
fetches them beforehand, on a machine with internet: repro/data/download.py).

torchvision's MD5 check stays on, so a truncated or altered file is refused. When it refuses, we look at each
expected file ourselves to say which one is missing or corrupted and how to get the archive.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from repro.data.arrays import ArrayDataset
from repro.data.cifar_layout import CIFAR_URL, SPECS
from repro.data.published import fetch_command
from repro.errors import UserError


def load_cifar(name: str, root: str | os.PathLike | None) -> tuple[ArrayDataset, ArrayDataset]:
    """(train, test) ArrayDatasets for "cifar10" / "cifar100" read from `<root>/<folder>/`."""
    spec = SPECS[name]
    if root is None or str(root) == "":
        raise UserError(
            f"{spec.title} needs data.root: the directory that contains {spec.folder}/ ({spec.files}). "
            f"Fetch it with `{fetch_command([name], 'DIR')}` on a machine with internet (it downloads {spec.archive} "
            f"from {CIFAR_URL}, checks it and extracts it), then pass data.root=DIR."
        )
    root = Path(root).expanduser()
    return _read(name, root, train=True), _read(name, root, train=False)


def _read(name: str, root: Path, *, train: bool) -> ArrayDataset:
    spec = SPECS[name]
    dataset_class = _torchvision_class(name)
    try:
        dataset = dataset_class(str(root), train=train, download=False)
    except RuntimeError as error:
        if "not found or corrupted" not in str(error):
            raise
        raise UserError(_not_found_message(name, root, dataset_class)) from None
    images = torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()
    targets = torch.as_tensor(dataset.targets, dtype=torch.int64)
    return ArrayDataset(images, targets, list(dataset.classes), spec.mean, spec.std, augment=True)


def _torchvision_class(name: str) -> type:
    from torchvision.datasets import CIFAR10, CIFAR100  # deferred: torchvision is heavy, needed by CIFAR only

    return CIFAR10 if name == "cifar10" else CIFAR100


def _not_found_message(name: str, root: Path, dataset_class: type) -> str:
    """Name each missing / corrupted file (checked against the same MD5s torchvision uses)."""
    from torchvision.datasets.utils import check_integrity  # deferred: torchvision is heavy, needed by CIFAR only

    spec = SPECS[name]
    folder = root / spec.folder
    meta_file = [dataset_class.meta["filename"], dataset_class.meta["md5"]]
    expected = dataset_class.train_list + dataset_class.test_list + [meta_file]
    missing = [f for f, _ in expected if not (folder / f).is_file()]
    corrupted = [f for f, md5 in expected if (folder / f).is_file() and not check_integrity(str(folder / f), md5)]
    if not root.is_dir():
        problem = f"the directory data.root={root} does not exist"
    elif not folder.is_dir():
        problem = f"{folder} does not exist"
    else:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if corrupted:
            parts.append(f"corrupted (MD5 mismatch) {', '.join(corrupted)}")
        problem = f"in {folder}: " + ("; ".join(parts) or "torchvision refused the files")
    return (
        f"{spec.title} not found or corrupted: {problem}. "
        f"Expected {spec.folder}/ ({spec.files}) under data.root={root}. "
        f"Fetch it with `{fetch_command([name], root)}` on a machine with internet (it downloads {spec.archive} from "
        f"{CIFAR_URL}, checks it and extracts it; remove a damaged {spec.folder}/ first), or pass "
        f"data.root=<the directory that contains {spec.folder}>."
    )
