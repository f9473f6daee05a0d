"""`pip install -e .` into an environment that already holds a cluster's torch keeps that torch.

A fresh venv gets a stand-in for a site build: metadata-only `torch 2.5.1+cu121` and the `torchvision 0.20.1` paired
with it (pinned to that torch, as real torchvision wheels are). pip then resolves the project against PyPI in a dry
run; the test fails if pip would replace either, e.g. after someone raises a range or adds a dependency that drags
in a newer torch. (Checked for real once, by hand: a venv with torch 2.13.0+cpu and torchvision 0.28.0 kept both.)
"""

from __future__ import annotations

import json
import os
import subprocess
import venv
import zipfile
from pathlib import Path

import pytest

from repo_paths import REPO

ROOT = REPO
SITE_TORCH, SITE_TORCHVISION = "2.5.1+cu121", "0.20.1+cu121"

OFFLINE_SIGNS = ("NewConnectionError", "Failed to establish a new connection", "Temporary failure in name resolution")

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def _stand_in_wheel(folder: Path, name: str, version: str, requires: list[str]) -> Path:
    """A wheel holding only metadata: enough for pip to see `name==version` installed, with its requirements."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{dist}/METADATA": "\n".join(
            [
                "Metadata-Version: 2.1",
                f"Name: {name}",
                f"Version: {version}",
                *[f"Requires-Dist: {r}" for r in requires],
            ]
        )
        + "\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{dist}/RECORD"] = "".join(f"{path},,\n" for path in [*files, f"{dist}/RECORD"])
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel


def _pip(python: Path, *args: str, timeout: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    return subprocess.run([str(python), "-m", "pip", *args], capture_output=True, text=True, env=env, timeout=timeout)


def test_pip_install_into_an_environment_with_a_site_torch_keeps_it(tmp_path):
    venv.EnvBuilder(with_pip=True).create(tmp_path / "venv")
    python = tmp_path / "venv" / "bin" / "python"
    wheels = [
        _stand_in_wheel(tmp_path, "torch", SITE_TORCH, []),
        _stand_in_wheel(tmp_path, "torchvision", SITE_TORCHVISION, [f"torch=={SITE_TORCH}"]),
    ]
    installed = _pip(python, "install", "--no-index", "--no-deps", *map(str, wheels), timeout=120)
    assert installed.returncode == 0, installed.stderr

    report = tmp_path / "report.json"
    try:
        plan = _pip(python, "install", "--dry-run", "--quiet", "--report", str(report), "-e", str(ROOT), timeout=600)
    except subprocess.TimeoutExpired:
        pytest.skip("pip could not resolve against the package index within 10 minutes (network?)")
    if plan.returncode != 0 and any(sign in plan.stderr for sign in OFFLINE_SIGNS):
        pytest.skip(f"the package index cannot be reached from here: {plan.stderr.strip().splitlines()[-1]}")
    assert plan.returncode == 0, plan.stderr
    would_install = {
        item["metadata"]["name"].lower(): item["metadata"]["version"]
        for item in json.loads(report.read_text())["install"]
    }
    assert "repro-soft-labels" in would_install, would_install
    assert "torch" not in would_install and "torchvision" not in would_install, (
        f"pip would replace the site's torch {SITE_TORCH} / torchvision {SITE_TORCHVISION}: {would_install}"
    )
