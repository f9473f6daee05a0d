"""benchmarks/ is a package its tests import by name, as they import repro and analysis (the other checks of how
modules are found: tests/project/test_import_paths.py)."""

from __future__ import annotations

from pathlib import Path

from repo_paths import REPO


def test_benchmarks_is_a_package_the_tests_import_by_name():
    from benchmarks import chaos  # the import the tests of benchmarks make

    benchmarks = REPO / "benchmarks"
    assert Path(chaos.__file__).resolve().parent == benchmarks and (benchmarks / "__init__.py").is_file()
