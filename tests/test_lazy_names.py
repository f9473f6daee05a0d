"""A package's lazily re-exported names (repro/lazy_names.py): imported from their home on first access and kept,
listed by dir(), and an unknown name is an AttributeError naming the package."""

from __future__ import annotations

import sys
import types

import pytest

from repro.lazy_names import lazy_names


def test_a_name_is_imported_on_first_access_kept_and_listed(monkeypatch):
    package = types.ModuleType("lazy_probe")
    monkeypatch.setitem(sys.modules, "lazy_probe", package)
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    package.__getattr__, package.__dir__ = lazy_names("lazy_probe", {"rgb_to_hsv": "colorsys"})

    assert "colorsys" not in sys.modules and "rgb_to_hsv" not in vars(package)
    assert "rgb_to_hsv" in dir(package)
    function = package.rgb_to_hsv
    assert "colorsys" in sys.modules and function is sys.modules["colorsys"].rgb_to_hsv
    assert vars(package)["rgb_to_hsv"] is function  # kept: a second access asks no module
    with pytest.raises(AttributeError, match="'lazy_probe' has no attribute 'hsv'"):
        _ = package.hsv
