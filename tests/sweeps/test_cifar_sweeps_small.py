"""The documented small check (`repro sweep FILE --epochs 1 --subset K`) of every paper sweep that reads CIFAR, end to
end on the local executor, on CIFAR files in their published format (testing_support/published_files.py) pointed at
as a user points at them (data.root). One column and one seed of each, every row; the tuning grids are cut to their
first point, the k-fold protocol of the files on the full split to two folds, a mentor run's training of its two
mentors (its last epoch) to a few steps (TINY_MENTOR), and the network to the tiny CNN (copies of the sweep files,
otherwise unchanged). The sweeps share one
output root, as the paper's sweeps do: a run that several tables plan (Tables 1, 2 and 5 share their CIFAR-100 rows)
trains once, and each sweep's check still ends with every run it plans done. sweeps/cifar_n.yaml, which also reads
CIFAR-N, has its own check with its table (tests/sweeps/test_cifar_n_sweep.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from presets import QUIET, TINY_MENTOR
from repo_paths import REPO
from repro.cli import main
from testing_support.published_files import write_cifar10, write_cifar100

pytestmark = pytest.mark.slow
SWEEPS = REPO / "sweeps"
CIFAR_SWEEPS = sorted(
    p.name for p in SWEEPS.glob("*.yaml") if "data=cifar" in p.read_text() and p.name != "cifar_n.yaml"
)


def _cut(node: object) -> None:
    """A `tune:` grid cut to its first point (a list, or a {start, stop, step} range)."""
    grid = (
        (node.get("tune") or {}).get("grid") if isinstance(node, dict) and isinstance(node.get("tune"), dict) else None
    )
    for key, values in (grid or {}).items():
        grid[key] = values[:1] if isinstance(values, list) else {**values, "stop": values["start"]}


def _tiny_mentor(row: object) -> None:
    """A mentor run's row (a list of overrides, or a mapping with `overrides:`) with its mentors' training cut to a
    few steps: the authors' 2 x 30,000 Adam steps are most of a small check's CPU time."""
    overrides = row.get("overrides") if isinstance(row, dict) else row
    if isinstance(overrides, list) and "method=mentornet_mentor" in overrides:
        overrides.extend(TINY_MENTOR)


def _small_copies(folder: Path) -> None:
    """Every sweep file (a student's teacher names another file) with its grids, folds and mentors' training cut."""
    folder.mkdir()
    for path in SWEEPS.glob("*.yaml"):
        spec = yaml.safe_load(path.read_text())
        _cut(spec)
        for part in ("rows", "columns"):
            for node in (spec.get(part) or {}).values():
                _cut(node)
        for row in (spec.get("rows") or {}).values():
            _tiny_mentor(row)
        if "split=full" in spec["common"]:  # no row of these files picks another split: every fold protocol is cut
            spec["common"].insert(spec["common"].index("split=full") + 1, "split.folds=2")
        (folder / path.name).write_text(yaml.safe_dump(spec, sort_keys=False))
    assert set(TINY_MENTOR) <= set(yaml.safe_load((folder / "mentornet.yaml").read_text())["rows"]["Mentor"])


@pytest.fixture(scope="module")
def cifar(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar")
    fakes = [write_cifar10(root, per_batch=100, n_test=100), write_cifar100(root, n_train=500, n_test=100)]
    _small_copies(root / "sweeps")
    return root, fakes


@pytest.mark.parametrize("name", CIFAR_SWEEPS)
def test_the_small_check_of_a_cifar_sweep_runs_every_row(cifar, monkeypatch, capsys, name):
    root, fakes = cifar
    for fake in fakes:
        fake.patch_checksums(monkeypatch)
    spec = yaml.safe_load((root / "sweeps" / name).read_text())
    column, seed = next(iter(spec["columns"])), str(spec["seeds"][0])
    argv = ["sweep", str(root / "sweeps" / name), "--epochs", "1", "--subset", "500", "--test-subset", "100"]
    argv += ["--columns", column, "--seeds", seed, "--jobs", "1", "--output-root", str(root / "out")]
    code = main([*argv, "model=tinycnn", f"data.root={root}", *QUIET])
    printed = capsys.readouterr().out
    assert code == 0, "\n".join(line for line in printed.splitlines() if "failed:" in line or "skipped" in line)
    assert re.search(r" 0 pending, 0 to submit", printed)  # every planned run is done
