"""The checkout root and the files the commands read: the folder that holds `repro/`, and beside it `analysis/`,
`benchmarks/`, `sweeps/`, `paper_tables/`, `slurm/`, `docs/` and `tests/`. Every module that reads one of those
folders starts from here, so no module counts its own depth below the root (a module that moves keeps its paths right).

The sweep files, the claims with the paper's tables and the cluster profiles ship inside the package: a wheel holds
them under `repro/bundled/<folder>/` (setup.py maps each top-level folder there), read through importlib.resources,
so `pip install .` works from any directory. A checkout (or an editable install) has no `repro/bundled/` and reads the
same folders beside the package, where users and docs expect them. `bundled` is the one way to either.

In an installed wheel CHECKOUT_ROOT is the folder holding the installed `repro/` (site-packages), where only the
packages are: the code that reads another folder of the checkout (benchmarks/, docs/) works from a checkout only."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

CHECKOUT_ROOT = Path(__file__).resolve().parents[1]  # this file is repro/checkout.py
# The folders a wheel ships inside the package (setup.py's BUNDLED names the files of each)
BUNDLED_FOLDERS = ("sweeps", "paper_tables", "slurm")


def bundled(folder: str) -> Path:
    """The folder `folder` (one of BUNDLED_FOLDERS) as this install has it: the package's own copy in a wheel, the
    checkout's folder otherwise. A wheel is installed unpacked (pip), so the package's files are files on disk."""
    if folder not in BUNDLED_FOLDERS:
        raise ValueError(f"{folder!r} is not a bundled folder ({', '.join(BUNDLED_FOLDERS)})")
    shipped = Path(str(resources.files("repro").joinpath("bundled", folder)))
    return shipped if shipped.is_dir() else CHECKOUT_ROOT / folder


def shipped_path(value: str | Path) -> Path:
    """A path as a user gives it: the path itself when it exists; else, when it is relative and starts with a bundled
    folder (sweeps/table1.yaml, slurm/profiles/local.yaml, paper_tables/claims.csv), this install's copy of it when
    that exists, so the docs' commands work from any directory; else the path as given (its reader says it is
    missing)."""
    path = Path(value).expanduser()
    if path.exists() or path.is_absolute() or not path.parts or path.parts[0] not in BUNDLED_FOLDERS:
        return path
    copy = bundled(path.parts[0]).joinpath(*path.parts[1:])
    return copy if copy.exists() else path


def shown_path(path: Path) -> str:
    """How a command line names `path`: relative to the bundled folders' parent when it is one of this install's
    bundled files (`sweeps/table1.yaml`, which `shipped_path` finds from any directory), else as it is."""
    for folder in BUNDLED_FOLDERS:
        root = bundled(folder)
        if Path(path).is_relative_to(root):
            return Path(folder, Path(path).relative_to(root)).as_posix()
    return str(path)
