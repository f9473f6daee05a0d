"""`pip install .` gives a package that works from any directory: the wheel is built from the checkout's files (what
`pip install git+...` builds), installed into a fresh venv that sees no checkout, and the commands that read the
bundled files (the claims, the paper's tables, the sweep files, the cluster profiles) run from a directory outside it.

The venv borrows the project's dependencies from this environment's site-packages through a .pth line (their own .pth
files, the editable install's finder among them, are not run from there), so installing takes seconds, not a download
of torch. Second tier (`e2e`): a wheel build, a training run and four commands, about a minute and a half of CPU."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from repo_paths import REPO, tracked_files
from repro.checkout import BUNDLED_FOLDERS

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

TINY_RUN = ["data.subset=200", "data.test_subset=100", "optim.epochs=1", "tracker=none", "progress=none"]


def build_wheel(folder: Path) -> Path:
    """The wheel of the checkout's files (tracked, or new and not ignored), built from a copy: the checkout gains no
    build/ or .egg-info. No build isolation: this environment's setuptools builds it, offline."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    )
    source = folder / "source"
    for name in filter(None, listed.stdout.decode().split("\0")):
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "wheel", str(source), "--no-deps", "--no-build-isolation", "-q", "-w", str(folder)], check=True
    )
    (wheel,) = folder.glob("*.whl")
    return wheel


def fresh_venv(folder: Path, wheel: Path) -> Path:
    """A venv holding the wheel, borrowing every other package from this environment; its bin/ folder."""
    venv.EnvBuilder(with_pip=False).create(folder)
    (purelib,) = folder.glob("lib/python*/site-packages")
    (purelib / "borrowed.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    python = folder / "bin" / "python"
    install = ["-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "-q", str(wheel)]
    subprocess.run([str(python), *install, "--disable-pip-version-check"], check=True, env=clean_env())
    return folder / "bin"


def clean_env() -> dict[str, str]:
    """This environment's variables without what would point Python at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSAFEPATH")}
    return {**env, "WANDB_MODE": "offline"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(the venv's bin/, a working directory outside the checkout)."""
    base = tmp_path_factory.mktemp("installed-wheel")
    wheel = build_wheel(base / "wheel")
    with zipfile.ZipFile(wheel) as zf:
        shipped = {n.removeprefix("repro/bundled/") for n in zf.namelist() if n.startswith("repro/bundled/")}
    assert shipped == {name for folder in BUNDLED_FOLDERS for name in tracked_files(folder)}
    work = base / "elsewhere"
    work.mkdir()
    return fresh_venv(base / "venv", wheel), work


def repro(installed: tuple[Path, Path], *args: str) -> subprocess.CompletedProcess:
    bin_dir, work = installed
    return subprocess.run(
        [str(bin_dir / "repro"), *args], cwd=work, env=clean_env(), capture_output=True, text=True, timeout=600
    )


def test_the_venv_imports_the_installed_package_not_the_checkout(installed):
    bin_dir, work = installed
    code = "import repro, analysis; from repro.checkout import bundled; print(repro.__file__, bundled('sweeps'))"
    shown = subprocess.run(
        [str(bin_dir / "python"), "-c", code], cwd=work, env=clean_env(), capture_output=True, text=True, check=True
    )
    package, sweeps = shown.stdout.split()
    venv_dir = bin_dir.parent
    assert Path(package).is_relative_to(venv_dir) and not Path(package).is_relative_to(REPO)
    assert Path(sweeps) == Path(package).parent / "bundled" / "sweeps"


def test_the_commands_that_read_the_bundled_files_run_from_another_directory(installed):
    trained = repro(installed, "train", *TINY_RUN, "output_root=out")  # the config tree ships too
    assert trained.returncode == 0, trained.stderr[-3000:]
    for args in (
        ["ledger", "--runs", "out"],
        ["plan", "--budget", "200"],
        ["sweep", "table1", "--dry-run"],
        ["sweep", "table1", "--executor", "slurm", "--profile", "local", "--dry-run"],
    ):
        done = repro(installed, *args)
        assert done.returncode == 0, f"repro {' '.join(args)}: {done.stderr[-3000:]}"
    assert (installed[1] / "paper_tables" / "ours" / "ledger.md").is_file()
