"""The files the commands read (sweep files, claims and the paper's tables, cluster profiles) are found from any
working directory: the package's own copy in a wheel, the checkout's folders otherwise (repro/checkout.py); setup.py
ships every tracked file of those folders. tests/project/test_installed_wheel.py checks the same in a built wheel."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import repro.checkout as checkout
from repo_paths import REPO, tracked_files
from repro.checkout import BUNDLED_FOLDERS, bundled, shipped_path, shown_path
from repro.errors import UserError
from repro.sweep.cluster_profile import resolve_profile_path
from repro.sweep.sweep_file import load_sweep


def setup_bundled() -> dict[str, list[str]]:
    """setup.py's BUNDLED (folder -> the patterns of its files that ship), read without running setup()."""
    tree = ast.parse((REPO / "setup.py").read_text())
    (value,) = [n.value for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "BUNDLED"]
    return ast.literal_eval(value)


def test_setup_ships_every_tracked_file_of_the_bundled_folders_and_nothing_else():
    patterns = setup_bundled()
    assert tuple(patterns) == BUNDLED_FOLDERS
    for folder, globs in patterns.items():
        shipped = {p.relative_to(REPO).as_posix() for g in globs for p in (REPO / folder).glob(g) if p.is_file()}
        assert shipped == tracked_files(folder), folder


def test_in_a_checkout_the_bundled_folders_are_the_checkouts():
    for folder in BUNDLED_FOLDERS:
        assert bundled(folder) == REPO / folder
    with pytest.raises(ValueError):
        bundled("docs")


def test_the_packages_own_copy_comes_first_where_it_exists(tmp_path, monkeypatch):
    """In a wheel, repro/bundled/<folder>/ holds the files (importlib.resources finds them beside the code)."""
    (tmp_path / "bundled" / "sweeps").mkdir(parents=True)
    monkeypatch.setattr(checkout.resources, "files", lambda package: tmp_path)
    assert bundled("sweeps") == tmp_path / "bundled" / "sweeps"
    assert bundled("slurm") == REPO / "slurm"  # a folder the package does not hold: the checkout's


def test_a_path_into_a_bundled_folder_is_found_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert shipped_path("sweeps/table1.yaml") == REPO / "sweeps" / "table1.yaml"
    assert shipped_path("sweeps") == REPO / "sweeps"
    assert shipped_path("sweeps/none.yaml") == Path("sweeps/none.yaml")  # its reader says it is missing
    assert shipped_path("elsewhere/table1.yaml") == Path("elsewhere/table1.yaml")
    (tmp_path / "sweeps").mkdir()
    (tmp_path / "sweeps" / "table1.yaml").write_text("mine")
    assert shipped_path("sweeps/table1.yaml") == Path("sweeps/table1.yaml")  # the user's own comes first
    assert shown_path(REPO / "sweeps" / "demo" / "table1.yaml") == "sweeps/demo/table1.yaml"
    assert shown_path(tmp_path / "x.yaml") == str(tmp_path / "x.yaml")


def test_a_bundled_sweep_file_is_found_by_name_as_by_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, file in (("table1", "table1.yaml"), ("demo/table6", "demo/table6.yaml")):
        assert load_sweep(name).path == REPO / "sweeps" / file
        assert load_sweep(f"sweeps/{file}").path == REPO / "sweeps" / file
    with pytest.raises(UserError, match="nor the name of a bundled sweep file .*table1, table10"):
        load_sweep("table99")


def test_a_bundled_profile_is_found_by_its_path_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    expected = REPO / "slurm" / "profiles" / "local.yaml"
    assert resolve_profile_path("slurm/profiles/local.yaml") == expected
    assert resolve_profile_path("local") == expected
