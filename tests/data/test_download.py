"""`repro data download` against a loopback mirror serving archives in the published formats: CIFAR-10's and
CIFAR-100's python-version archives (the pickled batches of testing_support/published_files.py, tiny, tarred as
published) and CIFAR-N's two label files. The catalogue's md5s are the fabricated files' (injected); the published
URLs and md5s are the defaults. What is checked: the data land where the loader reads them, a re-run fetches nothing,
and a damaged download, a damaged file already there or an interruption leaves the data root as it was."""

from __future__ import annotations

import functools
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torchvision.datasets.utils as tv_utils
from torchvision.datasets import CIFAR10, CIFAR100

import repro.commands.data as data_command
from loopback_mirror import serving
from repro.cli import main
from repro.data.cifar import load_cifar
from repro.data.cifar_n import RELEASES, file_md5
from repro.data.download import download
from repro.data.published import CIFAR_N_URL, NAMES, PublishedFile, lands_as, missing, published_files
from repro.errors import UserError
from testing_support.published_files import (
    FakeCifar,
    write_cifar10,
    write_cifar10n,
    write_cifar100,
    write_cifar100n,
)

PUBLISHED = "https://published.invalid/data"  # never reached: every test fetches from its loopback mirror


@dataclass
class Fabricated:
    mirror: Path  # the folder the loopback server serves: every published file under its own name
    catalogue: dict[str, tuple[PublishedFile, ...]]
    cifar10: FakeCifar


def _tar(fake: FakeCifar, archive: Path, extra: str) -> None:
    """The folder as its archive holds it (the published archives also hold a readme.html / file.txt~)."""
    (fake.folder / extra).write_text("")
    with tarfile.open(archive, "w:gz", format=tarfile.GNU_FORMAT) as tar:
        tar.add(fake.folder, arcname=fake.folder.name)


@pytest.fixture(scope="module")
def fabricated(tmp_path_factory) -> Fabricated:
    base = tmp_path_factory.mktemp("published")
    mirror = base / "mirror"
    mirror.mkdir()
    cifar10, cifar100 = write_cifar10(base / "made"), write_cifar100(base / "made")
    _tar(cifar10, mirror / "cifar-10-python.tar.gz", "readme.html")
    _tar(cifar100, mirror / "cifar-100-python.tar.gz", "file.txt~")
    write_cifar10n(mirror / "CIFAR-10_human.pt", cifar10.train_labels)
    write_cifar100n(mirror / "CIFAR-100_human.pt", cifar100.train_labels)

    def entry(name: str, fake: FakeCifar | None = None) -> PublishedFile:
        folder, members = (fake.folder.name, fake.md5) if fake else ("", {})
        return PublishedFile(f"{PUBLISHED}/{name}", file_md5(mirror / name), folder, members)

    catalogue = {
        "cifar10": (entry("cifar-10-python.tar.gz", cifar10),),
        "cifar100": (entry("cifar-100-python.tar.gz", cifar100),),
        "cifar-n": (entry("CIFAR-10_human.pt"), entry("CIFAR-100_human.pt")),
    }
    return Fabricated(mirror, catalogue, cifar10)


def fetch(fabricated: Fabricated, names, root: Path, mirror_url: str, **kwargs) -> list[Path]:
    return download(list(names), root, mirror=mirror_url, catalogue=fabricated.catalogue.__getitem__, **kwargs)


def tree(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) if folder.exists() else []


def test_the_defaults_are_the_published_files():
    (c10,), (c100,) = published_files("cifar10"), published_files("cifar100")
    assert (c10.url, c10.md5, c10.folder) == (CIFAR10.url, CIFAR10.tgz_md5, "cifar-10-batches-py")
    assert (c100.url, c100.md5, c100.folder) == (CIFAR100.url, CIFAR100.tgz_md5, "cifar-100-python")
    assert c10.members["data_batch_1"] == "c99cafc152244af753f735de768cd75f" and len(c10.members) == 7
    assert len(c100.members) == 3
    labels = published_files("cifar-n")
    assert [f.url for f in labels] == [f"{CIFAR_N_URL}/CIFAR-10_human.pt", f"{CIFAR_N_URL}/CIFAR-100_human.pt"]
    assert [f.md5 for f in labels] == [r.md5 for r in RELEASES]
    assert CIFAR_N_URL == "https://raw.githubusercontent.com/UCSC-REAL/cifar-10-100n/main/data"
    assert [f.on_mirror("http://m/x/").url for f in labels] == [
        "http://m/x/CIFAR-10_human.pt",
        "http://m/x/CIFAR-100_human.pt",
    ]
    assert {n: lands_as(n) for n in NAMES} == {
        "cifar10": ("cifar-10-batches-py",),
        "cifar100": ("cifar-100-python",),
        "cifar-n": ("CIFAR-10_human.pt", "CIFAR-100_human.pt"),
    }


def test_everything_lands_where_the_loader_reads_it_and_a_rerun_fetches_nothing(fabricated, tmp_path, monkeypatch):
    root = tmp_path / "data"
    with serving(fabricated.mirror) as mirror:
        got = fetch(fabricated, NAMES, root, mirror.url, say=lambda _: None)
        assert [p.name for p in got] == [
            "cifar-10-batches-py",
            "cifar-100-python",
            "CIFAR-10_human.pt",
            "CIFAR-100_human.pt",
        ]
        published = {f.file_name for files in fabricated.catalogue.values() for f in files}
        assert {Path(r).name for r in mirror.requests} == published
        assert missing(root) == [] and not [p for p in root.iterdir() if p.name.startswith(".")]  # no temporary left
        fabricated.cifar10.patch_checksums(monkeypatch)
        train, test = load_cifar("cifar10", root)
        assert np.array_equal(train.images.permute(0, 2, 3, 1).numpy(), fabricated.cifar10.train_images)
        assert train.targets.tolist() == fabricated.cifar10.train_labels and len(test) == 6
        for name in ("CIFAR-10_human.pt", "CIFAR-100_human.pt"):
            assert (root / name).read_bytes() == (fabricated.mirror / name).read_bytes()
        said, before = [], len(mirror.requests)
        assert fetch(fabricated, NAMES, root, mirror.url, say=said.append) == []
        assert len(mirror.requests) == before and len(said) == 4 and all("already there" in s for s in said)


def test_a_truncated_download_is_refused_and_leaves_nothing(fabricated, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    archive = (fabricated.mirror / "cifar-10-python.tar.gz").read_bytes()
    (served / "cifar-10-python.tar.gz").write_bytes(archive[: len(archive) // 2])
    for name in ("CIFAR-10_human.pt", "CIFAR-100_human.pt"):
        shutil.copy(fabricated.mirror / name, served)
    root = tmp_path / "data"
    with serving(served) as mirror, pytest.raises(UserError, match="is damaged or incomplete: [0-9,]+ bytes"):
        fetch(fabricated, ["cifar-n", "cifar10"], root, mirror.url, say=lambda _: None)
    assert tree(root) == ["CIFAR-100_human.pt", "CIFAR-10_human.pt"]  # what came whole before it stays
    shutil.rmtree(root)
    with serving(served) as mirror, pytest.raises(UserError, match="is damaged or incomplete"):
        fetch(fabricated, ["cifar10"], root, mirror.url, say=lambda _: None)
    assert not root.exists()  # the root it made, removed again


def test_a_damaged_file_already_there_is_refused_before_anything_is_fetched(fabricated, tmp_path):
    root = tmp_path / "data"
    batches = root / "cifar-10-batches-py"
    batches.mkdir(parents=True)
    (batches / "data_batch_1").write_bytes(b"not the batch")
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    with serving(fabricated.mirror) as mirror:
        with pytest.raises(UserError, match="data_batch_1 does not have its published md5; data_batch_2 is missing"):
            fetch(fabricated, ["cifar-n", "cifar10"], root, mirror.url)
        assert mirror.requests == []
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("step", ["download_url", "extract_archive"])
def test_an_interruption_leaves_no_partial_file_or_folder(fabricated, tmp_path, monkeypatch, step):
    real = getattr(tv_utils, step)

    def half_then_interrupted(*args, **kwargs):
        real(*args, **kwargs)  # the whole step's files written, then Ctrl-C before the rename
        raise KeyboardInterrupt

    monkeypatch.setattr(tv_utils, step, half_then_interrupted)
    root = tmp_path / "data"
    root.mkdir()
    with serving(fabricated.mirror) as mirror, pytest.raises(KeyboardInterrupt):
        fetch(fabricated, ["cifar10"], root, mirror.url, say=lambda _: None)
    assert tree(root) == []


def test_the_command_fetches_from_the_mirror_the_environment_names(fabricated, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(data_command, "download", functools.partial(download, catalogue=fabricated.catalogue.get))
    root = tmp_path / "data"
    with serving(fabricated.mirror) as mirror:
        monkeypatch.setenv("REPRO_DATA_MIRROR", mirror.url)
        assert main(["data", "download", "cifar-n", "--root", str(root)]) == 0
        assert mirror.requests
    out = capsys.readouterr().out
    assert f"data.root={root}" in out and f"noise.file={root}/CIFAR-10_human.pt" in out
    assert tree(root) == ["CIFAR-100_human.pt", "CIFAR-10_human.pt"]
