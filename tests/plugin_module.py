"""A user's plug-in module (a stage defined outside the package) loaded from the file it was written to, by its
file's location, without putting its folder on `sys.path`: the module is registered in `sys.modules` under its name
for the test only (`monkeypatch` takes it off again), so the classes it defines know their module."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest


def load_plugin(path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The module in `path`, executed once and known as `path.stem` while the test runs."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, path.stem, module)
    spec.loader.exec_module(module)
    return module
