"""A package's lazily re-exported names (repro/lazy_names.py): imported from their home on first access, not before,
and kept; listed by dir(); an unknown name is an AttributeError naming the package."""

from __future__ import annotations

import colorsys
import types

import pytest

from repro.lazy_names import lazy_names


def test_a_name_is_imported_on_first_access_kept_and_listed():
    package = types.ModuleType("lazy_probe")
    homes = {"rgb_to_hsv": "colorsys", "absent": "no_such_module_for_lazy_names"}
    package.__getattr__, package.__dir__ = lazy_names(vars(package), homes)  # imports neither home

    assert "rgb_to_hsv" in dir(package) and "rgb_to_hsv" not in vars(package)
    assert package.rgb_to_hsv is colorsys.rgb_to_hsv
    assert vars(package)["rgb_to_hsv"] is colorsys.rgb_to_hsv  # kept: a second access asks no module
    with pytest.raises(ModuleNotFoundError, match="no_such_module_for_lazy_names"):  # its home is imported only now
        _ = package.absent
    with pytest.raises(AttributeError, match="'lazy_probe' has no attribute 'hsv'"):
        _ = package.hsv
