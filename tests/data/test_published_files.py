"""The fixture helper against the real CIFAR-N files: given the published labels, testing_support/published_files.py
writes the published files byte for byte, and the suite reads them. The files are CC BY-NC 4.0 and never shipped: these
tests run where CIFAR_N_DIR (the variable sweeps/cifar_n.yaml reads) holds CIFAR-10_human.pt and CIFAR-100_human.pt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from repro.data import cifar_n, cifar_n_labels
from repro.data.label_file import read_label_columns
from testing_support.published_files import write_cifar10n, write_cifar100n

RELEASES = {r.file_name: r for r in cifar_n.RELEASES}


def _published(name: str) -> Path:
    path = Path(os.environ.get("CIFAR_N_DIR", "data")) / name
    if not path.is_file() or cifar_n.file_md5(path) != RELEASES[name].md5:
        pytest.skip(f"needs the published {name} (md5 {RELEASES[name].md5}) in $CIFAR_N_DIR; not here")
    return path


@pytest.mark.parametrize(
    "name, write", [("CIFAR-10_human.pt", write_cifar10n), ("CIFAR-100_human.pt", write_cifar100n)]
)
def test_the_helper_rewrites_the_published_file_byte_for_byte(tmp_path, name, write):
    columns = read_label_columns(_published(name), what="the published file")
    write(tmp_path / name, columns["clean_label"], columns=columns)
    assert cifar_n.file_md5(tmp_path / name) == RELEASES[name].md5


@pytest.mark.parametrize("name, kind", [("CIFAR-10_human.pt", "worse"), ("CIFAR-100_human.pt", "noisy")])
def test_the_published_file_loads_with_its_whole_training_set(name, kind):
    path = _published(name)
    human = cifar_n_labels.load_human_noise({"kind": "cifar_n", "file": str(path), "type": kind}, None)
    assert human.given.shape == human.clean.shape == (50_000,) and human.md5 == RELEASES[name].md5
    assert 0.40 < float((human.given != human.clean).double().mean()) < 0.41  # 40.2%, as Wei et al. give it
