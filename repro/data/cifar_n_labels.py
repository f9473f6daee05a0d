"""A CIFAR-N file's labels as tensors (repro/data/cifar_n.py: what the published files are, and the checks promised
there): read without executing the file's pickle, its md5 compared with the releases', its `clean_label` checked
against the user's CIFAR training set image by image.

Why apart from cifar_n.py: the noise models' declarations (repro/data/noise/annotator_noise.py) read the releases'
label types when a config is checked, also by commands that load no torch (`repro tables`, `repro ledger`); only a
run that reads the file needs torch, and imports this module then."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import torch
from torch import Tensor

from repro.data.cifar_n import (
    ANNOTATOR_KEYS,
    RELEASES,
    HumanNoise,
    Release,
    file_md5,
    noise_file_path,
    noise_type,
    warn_if_unpublished,
)
from repro.data.label_file import LabelColumn, label_column, read_label_columns
from repro.errors import UserError


def load_human_noise(noise_cfg: Mapping[str, Any], targets: Tensor | None) -> HumanNoise:
    """The run's CIFAR-N labels, checked against `targets` (the whole CIFAR training set, before data.subset;
    None: unchecked, for questions about the file alone, such as its transition matrix before a run starts)."""
    path, kind = noise_file_path(noise_cfg), noise_type(noise_cfg)
    what = "The CIFAR-N label file (noise.file)"
    arrays = read_label_columns(path, what=what)
    md5 = file_md5(path)
    release = next(r for r in RELEASES if kind in r.types)
    warn_if_unpublished(path, md5)
    key = release.types[kind]
    if key not in arrays or "clean_label" not in arrays:
        other = [t for r in RELEASES for t, k in r.types.items() if k in arrays]
        raise UserError(
            f"{path} has no {key!r} column for noise.type={kind} ({release.title}); it holds "
            f"{', '.join(sorted(arrays)) or 'nothing'}. "
            + (
                f"Its noise types are {', '.join(other)}: pick one of "
                "those, or point noise.file at the " + release.title + " file."
                if other
                else f"Point noise.file at the {release.title} file ({release.file_name})."
            )
        )
    clean, given = _labels(arrays, "clean_label", path), _labels(arrays, key, path)
    if targets is not None:
        check_alignment(clean, targets, path=path, release=release)
    votes = None
    if all(k in arrays for k in ANNOTATOR_KEYS):
        votes = torch.stack([_labels(arrays, k, path) for k in ANNOTATOR_KEYS], dim=1)
    return HumanNoise(path, md5, kind, given, clean, votes)


def check_alignment(clean: Tensor, targets: Tensor, *, path: Path, release: Release) -> None:
    """`clean_label` must equal the CIFAR training labels position by position; otherwise say what the file looks
    like (another data set, another image order, other labels) and what to do."""
    targets = targets.long().cpu()
    if clean.shape == targets.shape and bool(torch.equal(clean, targets)):
        return
    head = (
        f"The CIFAR-N file {path} does not fit your CIFAR training set: its clean_label must equal the training "
        "labels image by image (CIFAR-N follows the python version's order, data_batch_1 .. data_batch_5)"
    )
    if clean.numel() != targets.numel():
        problem = (
            f"it has {clean.numel()} labels, your training set {targets.numel()}. Is data= the data set of "
            f"this file ({release.title} labels data={release.data_name})? data.root must hold the full "
            "python-version training set"
        )
    elif not torch.equal(torch.sort(clean).values, torch.sort(targets).values):
        problem = (
            f"even as sets the labels differ (class counts {_counts(clean)} in the file, {_counts(targets)} in "
            f"your data): it labels another data set; {release.title} labels data={release.data_name}"
        )
    else:
        same = float((clean == targets).double().mean())
        order = (
            "sorted by class"
            if bool((clean[1:] >= clean[:-1]).all())
            else "in another image order (for example TensorFlow Datasets' order, or shuffled)"
        )
        problem = (
            f"the file holds the same labels {order}: only {same:.1%} of the positions agree. Use the python "
            "version of CIFAR (cifar-*-python.tar.gz, torchvision's layout) at data.root, and the CIFAR-N file "
            "as released, without reordering"
        )
    raise UserError(f"{head}; {problem}. Nothing was trained.")


def _labels(arrays: Mapping[str, LabelColumn], key: str, path: Path) -> Tensor:
    return torch.from_numpy(label_column(dict(arrays), key, path=path))


def _counts(labels: Tensor) -> str:
    counts = torch.bincount(labels.clamp(min=0)).tolist()
    return "[" + ", ".join(map(str, counts[:5])) + (", ...]" if len(counts) > 5 else "]")
