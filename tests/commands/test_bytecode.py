"""`python -m repro.commands.bytecode`, which `make setup` runs: it compiles the byte-code of every module of the named
packages and of the named single modules into the cache, runs no package's `__main__`, and names a module that does
not import instead of failing the install."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

from repo_paths import REPO


def _package(root: Path) -> None:
    """A package with a subpackage, a `__main__` that would leave a mark if it ran, and a module that fails."""
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "top.py").write_text("VALUE = 1\n")
    (root / "pkg" / "sub" / "__init__.py").write_text("")
    (root / "pkg" / "sub" / "deep.py").write_text("VALUE = 2\n")
    (root / "pkg" / "__main__.py").write_text("open('main-ran', 'w').close()\n")
    (root / "pkg" / "broken.py").write_text("raise RuntimeError('a module that cannot import')\n")
    (root / "single.py").write_text("VALUE = 3\n")


def test_every_module_is_compiled_once_into_the_cache_and_a_failing_one_is_named(tmp_path):
    _package(tmp_path)
    cache = tmp_path / "cache"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(cache)}
    # the fabricated package is found in the working folder, which `python -m` puts first on the path (and the second
    # process, spawned, inherits): no path is given to it
    command = [sys.executable, "-m", "repro.commands.bytecode", "pkg", "--modules", "single", "not_a_module"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    compiled = {path.name.split(".")[0] for path in cache.rglob("*.pyc") if str(tmp_path / "pkg") in str(path)}
    assert compiled == {"__init__", "top", "deep", "broken"}  # broken.py compiles; only its import fails
    assert list(cache.rglob("single.*.pyc"))
    assert not (tmp_path / "main-ran").exists()
    assert "pkg.broken did not import (RuntimeError: a module that cannot import)" in done.stderr
    assert "not_a_module did not import (ModuleNotFoundError" in done.stderr


def test_make_setup_compiles_modules_that_exist():
    """The modules `make setup` names are real: a rename that left the Makefile behind would compile nothing."""
    (line,) = [line for line in (REPO / "Makefile").read_text().splitlines() if "-m repro.commands.bytecode" in line]
    names = re.split(r"\s+", line.split("-m repro.commands.bytecode", 1)[1].strip())
    named = [name for name in names if name != "--modules"]
    assert {"repro", "analysis", "torch._dynamo"} <= set(named)
    assert [name for name in named if importlib.util.find_spec(name) is None] == []
