"""pyproject.toml states compatible ranges (a cluster's torch must satisfy them); requirements/constraints.txt holds
today's exact versions for `make setup`. The ranges must admit the pins, and every dependency must be pinned."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from repo_paths import REPO

ROOT = REPO


def _dependencies() -> list[Requirement]:
    text = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M).group(1)
    test = re.search(r"^test = \[(.*?)\]", text, re.M).group(1)
    return [Requirement(s) for s in re.findall(r'"([^"]+)"', block + test)]


def _pins() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "requirements" / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = Version(version.strip())
    return pins


def test_every_dependency_is_pinned_and_its_range_admits_the_pin():
    pins = _pins()
    for req in _dependencies():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} has no exact version in requirements/constraints.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (str(req), str(pins[name]))


def test_torch_range_admits_a_clusters_torch_2_4_and_later_but_not_older():
    (torch,) = [r for r in _dependencies() if r.name == "torch"]
    for ok in ("2.4.0", "2.5.1", "2.7.0+cu126", "2.14.1"):
        assert torch.specifier.contains(Version(ok).public), ok
    for too_old_or_new in ("2.3.1", "1.13.1", "3.0.0"):
        assert not torch.specifier.contains(too_old_or_new), too_old_or_new


def test_no_dependency_is_pinned_exactly_in_pyproject():
    exact = [str(r) for r in _dependencies() if any(s.operator == "==" for s in r.specifier)]
    assert exact == [], "exact pins belong in requirements/constraints.txt; pyproject states ranges"


def test_make_setup_installs_with_the_constraints():
    assert "-c requirements/constraints.txt" in (ROOT / "Makefile").read_text()


def test_make_keeps_byte_code_under_the_venv_where_the_environment_forbids_writing_it(tmp_path):
    """Every process `make` starts reads the byte-code of its imports from the venv's cache, even in an environment
    that sets PYTHONDONTWRITEBYTECODE=1 (container images do): otherwise each compiles torch's Python again."""
    venv = tmp_path / "venv"
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    shown = subprocess.run(
        ["make", "-s", "--no-print-directory", "--eval", "show-env: ; @env", "show-env", f"VENV={venv}"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    made = dict(line.split("=", 1) for line in shown.splitlines() if line.startswith("PYTHON"))
    assert made["PYTHONDONTWRITEBYTECODE"] == "" and made["PYTHONPYCACHEPREFIX"] == str(venv / "pycache")
    subprocess.run([sys.executable, "-c", "import repro.errors"], cwd=tmp_path, env={**environment, **made}, check=True)
    assert list((venv / "pycache").rglob("repro/errors.*.pyc"))  # the project's byte-code, kept in the cache
