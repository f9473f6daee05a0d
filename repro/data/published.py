"""What `repro data download` fetches, as it is published: each data set's files, where they are and their md5s.

- CIFAR-10 and CIFAR-100: the python-version archives of the CIFAR page, with the URL, the archive's md5 and the md5
  of every file it holds as torchvision's CIFAR10 / CIFAR100 classes carry them: the numbers torchvision checks again
  when a run loads the data (repro/data/cifar.py), so the download and the loader hold one source.
- CIFAR-N: the two label files of the authors' repository (github.com/UCSC-REAL/cifar-10-100n, data/), with the md5s of
  the releases in repro/data/cifar_n.py. They are CC BY-NC 4.0: fetched for the user from the authors' own copy, never
  shipped with this suite.

A mirror (`--mirror URL`, or the environment's REPRO_DATA_MIRROR) serves every file under its file name,
`URL/cifar-10-python.tar.gz`, `URL/CIFAR-10_human.pt`, ...: a site's copy for clusters without internet, and the
tests' loopback server. This module imports no torchvision until a download asks for the CIFAR md5s, so `repro doctor`
says what is missing without loading it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Mapping

from repro.data.cifar_layout import SPECS
from repro.data.cifar_n import RELEASES
from repro.errors import UserError

NAMES = ("cifar10", "cifar100", "cifar-n")
CIFAR_N_URL = "https://raw.githubusercontent.com/UCSC-REAL/cifar-10-100n/main/data"
MIRROR_VARIABLE = "REPRO_DATA_MIRROR"


@dataclass(frozen=True)
class PublishedFile:
    """One published file: where it is, its md5 and, for an archive, the folder it extracts to with the md5 of each
    file in it (an empty folder name: the file is used as it is, e.g. a CIFAR-N label file)."""

    url: str
    md5: str
    folder: str = ""
    members: Mapping[str, str] = field(default_factory=dict)  # file in `folder` -> its md5

    @property
    def file_name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def lands_as(self) -> str:
        """What the download leaves in the data root: the extracted folder, or the file itself."""
        return self.folder or self.file_name

    def on_mirror(self, mirror: str | None) -> PublishedFile:
        """The same file as `mirror` serves it (under its file name); itself when no mirror is given."""
        return replace(self, url=f"{mirror.rstrip('/')}/{self.file_name}") if mirror else self


def published_files(name: str) -> tuple[PublishedFile, ...]:
    """The files of data set `name` (one of NAMES) with their published URLs and md5s."""
    if name == "cifar-n":
        return tuple(PublishedFile(f"{CIFAR_N_URL}/{r.file_name}", r.md5) for r in RELEASES)
    datasets = torchvision_datasets()
    cls = datasets.CIFAR10 if name == "cifar10" else datasets.CIFAR100
    members = dict(tuple(pair) for pair in [*cls.train_list, *cls.test_list, (cls.meta["filename"], cls.meta["md5"])])
    return (PublishedFile(cls.url, cls.tgz_md5, cls.base_folder, members),)


def torchvision_datasets() -> ModuleType:
    """torchvision.datasets, the one place the data commands import it: its CIFAR classes know the published URLs and
    md5s, its `utils` download and extract (repro/data/download.py). Only a download asks for it, so `repro data
    --help` and `repro doctor` start without torchvision."""
    import torchvision.datasets  # deferred: torchvision is heavy; only a download needs it

    return torchvision.datasets


def lands_as(name: str) -> tuple[str, ...]:
    """What a download of `name` leaves in the data root (the folders data.root holds, the label files), read
    without torchvision: the loader's folder names (repro/data/cifar_layout.py) and CIFAR-N's file names."""
    if name == "cifar-n":
        return tuple(r.file_name for r in RELEASES)
    return (SPECS[name].folder,)


def missing(root: Path) -> list[str]:
    """The data sets of NAMES whose folder or files are not in `root`."""
    return [name for name in NAMES if not all((root / item).exists() for item in lands_as(name))]


def fetch_command(names: list[str] | tuple[str, ...], root: Path | str) -> str:
    """The command that fetches `names` into `root`."""
    return shlex.join(["repro", "data", "download", *names, "--root", str(root)])


def check_names(names: list[str]) -> None:
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        raise UserError(
            f"{unknown[0]!r} is not a data set `repro data download` fetches; name some of {', '.join(NAMES)} "
            "(cifar-n: CIFAR-10N's and CIFAR-100N's human label files). Nothing was downloaded."
        )
