"""A sweep's expansion kept in its folder (repro/sweep/expansion_cache.py): read back whole where nothing that
decides the expansion changed, never read once something did (the sweep file, a sweep file it names, an override,
the scale or a stage's option, the output root, the code), and a folder that cannot be written or an entry that
cannot be read only costs the expansion again."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest

from analysis.sweeps import sweep_index
from presets import TINY_BASELINE_SWEEP, TINY_SWEEP_SCALE, write_tiny_sweep
from repro.cli import main
from repro.runs.rundir import RunDir
from repro.sweep import expansion_cache, index, sweep_plan
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.expansion_cache import cached_expansion
from repro.sweep.spec.model import PlannedRun, Scale
from repro.sweep.status import sweep_status
from repro.sweep.sweep_file import load_sweep

TEACHERS = """
    name: teachers
    metric: final_test_acc
    seeds: [0]
    common: [data=digits, model=smallcnn]
    columns:
      Digits: []
    rows:
      Baseline: [method=baseline]
"""
STUDENTS = """
    name: students
    metric: final_test_acc
    seeds: [0]
    common: [data=digits, model=tinycnn]
    columns:
      Digits: []
    rows:
      Distilled:
        overrides: [method=distillation]
        teacher: {sweep: teachers.yaml, row: Baseline, column: Digits}
"""


class Expansion:
    """A stand-in for the expansion: the runs it plans (their config's seed says which call planned them), and how
    often it was asked."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> list[PlannedRun]:
        self.calls += 1
        config = {"seed": self.calls, "optim": {"lr": 0.1, "milestones": [3, 6]}, "noise": None, "ratio": 1.0}
        return [
            PlannedRun("a", "Baseline", "Digits", 0, "fold", 1, ("seed=0",), config, depends_on=("b", "c")),
            PlannedRun("b", "Baseline", "Digits", 0, "final", None, (), {}, phase="rung 1/2", share=0.5, trains=False),
        ]


def planned(spec, expand, root, scale=None, extra=()):
    return cached_expansion(spec, expand, output_root=str(root), scale=scale, extra_overrides=list(extra))


def test_a_kept_expansion_is_read_back_whole_and_not_expanded_again(tmp_path):
    path, expand = write_tiny_sweep(tmp_path), Expansion()
    first = planned(load_sweep(path), expand, tmp_path / "out")
    again = planned(load_sweep(path), expand, tmp_path / "out")  # another command: the file read anew
    assert expand.calls == 1
    assert [dataclasses.astuple(r) for r in again] == [dataclasses.astuple(r) for r in first]
    assert all(type(getattr(r, f.name)) is type(getattr(s, f.name)) for r, s in zip(again, first) for f in
               dataclasses.fields(PlannedRun))  # fmt: skip


def _edit_the_file(tmp_path: Path, path: Path) -> dict:
    path.write_text(path.read_text().replace("seeds: [0]", "seeds: [0, 1]"))
    return {}


CHANGES = {
    "the sweep file": _edit_the_file,
    "an override": lambda tmp, path: {"extra": ["optim.lr=0.2"]},
    "the scale": lambda tmp, path: {"scale": Scale(epochs=2)},
    "a stage's option": lambda tmp, path: {"scale": Scale(stage_options={"until_decided": True})},
    "the output root": lambda tmp, path: {"root": tmp / "elsewhere"},
    "an environment variable the config reads": lambda tmp, path: {"env": {"CIFAR_ROOT": str(tmp / "cifar")}},
}


@pytest.mark.parametrize("change", CHANGES)
def test_an_expansion_kept_before_a_change_is_never_read_after_it(tmp_path, monkeypatch, change):
    monkeypatch.delenv("CIFAR_ROOT", raising=False)
    path, expand = write_tiny_sweep(tmp_path, TINY_BASELINE_SWEEP), Expansion()
    planned(load_sweep(path), expand, tmp_path / "out")
    changed = {"root": tmp_path / "out", **CHANGES[change](tmp_path, path)}
    for name, value in changed.get("env", {}).items():
        monkeypatch.setenv(name, value)
    runs = planned(load_sweep(path), expand, changed["root"], changed.get("scale"), changed.get("extra", ()))
    assert expand.calls == 2 and runs[0].config["seed"] == 2  # expanded anew, not the kept runs
    again = planned(load_sweep(path), expand, changed["root"], changed.get("scale"), changed.get("extra", ()))
    assert expand.calls == 2 and again[0].config["seed"] == 2  # and kept in turn


def test_a_change_of_a_sweep_file_the_sweep_names_makes_its_kept_expansion_stale(tmp_path):
    (tmp_path / "teachers.yaml").write_text(textwrap.dedent(TEACHERS))
    (tmp_path / "students.yaml").write_text(textwrap.dedent(STUDENTS))
    expand = Expansion()
    planned(load_sweep(tmp_path / "students.yaml"), expand, tmp_path / "out")
    planned(load_sweep(tmp_path / "students.yaml"), expand, tmp_path / "out")
    assert expand.calls == 1
    (tmp_path / "teachers.yaml").write_text(textwrap.dedent(TEACHERS).replace("[0]", "[0, 1]"))
    planned(load_sweep(tmp_path / "students.yaml"), expand, tmp_path / "out")
    assert expand.calls == 2


def test_a_change_of_the_code_makes_every_kept_expansion_stale(tmp_path, monkeypatch):
    path, expand = write_tiny_sweep(tmp_path), Expansion()
    planned(load_sweep(path), expand, tmp_path / "out")
    monkeypatch.setattr(expansion_cache, "code_digest", lambda: "another version of repro/")
    planned(load_sweep(path), expand, tmp_path / "out")
    assert expand.calls == 2


def test_a_folder_that_cannot_be_written_expands_each_time_and_keeps_nothing(tmp_path):
    path, expand = write_tiny_sweep(tmp_path), Expansion()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "sweeps").write_text("a file where the sweeps' folders would go")  # no folder can be made
    assert planned(load_sweep(path), expand, tmp_path / "out")[0].run_id == "a"
    assert planned(load_sweep(path), expand, tmp_path / "out")[0].run_id == "a"
    assert expand.calls == 2


def test_an_entry_that_cannot_be_read_is_expanded_again(tmp_path):
    path, expand = write_tiny_sweep(tmp_path), Expansion()
    planned(load_sweep(path), expand, tmp_path / "out")
    [entry] = (tmp_path / "out" / "sweeps" / "tiny" / "expansions").iterdir()
    entry.write_text(entry.read_text()[:-40])  # cut short
    assert planned(load_sweep(path), expand, tmp_path / "out")[1].run_id == "b"
    assert expand.calls == 2


def test_the_results_index_reads_the_kept_expansion_as_the_expansion_planned_it(tmp_path, monkeypatch):
    """Through `repro.sweep.index.expanded` (what tables, figures and the ledger call): the kept runs are the
    expansion's own, field by field, and a second command composes nothing."""
    path, scale = write_tiny_sweep(tmp_path), Scale(epochs=1, subset=400)
    fresh = expand_sweep(load_sweep(path), output_root=str(tmp_path / "out"), scale=scale)
    first = index.expanded(load_sweep(path), output_root=tmp_path / "out", scale=scale)

    def no_expansion(*args, **kwargs):
        raise AssertionError("expanded again although the kept expansion is current")

    monkeypatch.setattr(index, "expand_anew", no_expansion)
    kept = index.expanded(load_sweep(path), output_root=tmp_path / "out", scale=scale)
    assert [dataclasses.astuple(r) for r in kept] == [dataclasses.astuple(r) for r in first]
    assert [dataclasses.astuple(r) for r in kept] == [dataclasses.astuple(r) for r in fresh]
    assert [r.config for r in kept] == [r.config for r in fresh]


class CountedExpansions:
    """The results index's own expansion (`repro.sweep.index.expand_anew`), counted."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, spec, **options):
        self.calls += 1
        return expand_sweep(spec, **options)


@pytest.mark.slow
def test_the_first_results_index_after_a_sweep_reads_the_expansion_the_sweep_kept(tmp_path, monkeypatch):
    """`repro sweep` keeps the expansion it made where the results index looks for it: the first `repro tables`,
    `figures` or `ledger` after it expands nothing (and finds the sweep's runs, the same ones). A dry run writes
    nothing, so it keeps none."""
    path, root = write_tiny_sweep(tmp_path, TINY_BASELINE_SWEEP), tmp_path / "out"
    scale = ["--epochs", "1", "--subset", "400", "--test-subset", "200"]
    assert main(["sweep", str(path), "--output-root", str(root), *scale, "--dry-run"]) == 0
    assert not root.exists()
    assert main(["sweep", str(path), "--output-root", str(root), *scale]) == 0
    expansions = CountedExpansions()
    monkeypatch.setattr(index, "expand_anew", expansions)
    found = sweep_index(load_sweep(path), {}, output_root=root)
    assert expansions.calls == 0
    fresh = expand_sweep(load_sweep(path), output_root=str(root), scale=TINY_SWEEP_SCALE)
    assert [dataclasses.astuple(r) for r in found.runs] == [dataclasses.astuple(r) for r in fresh]
    assert all(RunDir(root / "runs" / r.run_id).is_done() for r in found.runs)


@pytest.mark.slow
def test_sweep_status_reads_the_kept_expansion_and_writes_none(tmp_path, monkeypatch):
    """`repro sweep status` after a sweep plans from the expansion the sweep kept (no composition: a status polled
    on a large sweep answers at once), sees every run done, and, where no entry is kept, expands and writes none."""
    path, root = write_tiny_sweep(tmp_path, TINY_BASELINE_SWEEP), tmp_path / "out"
    scale = ["--epochs", "1", "--subset", "400", "--test-subset", "200"]
    assert main(["sweep", str(path), "--output-root", str(root), *scale]) == 0
    expansions = CountedExpansions()
    monkeypatch.setattr(sweep_plan, "expand_sweep", expansions)
    plan = sweep_status(path, output_root=root)
    assert expansions.calls == 0
    assert plan.runs and all(RunDir(root / "runs" / r.run_id).is_done() for r in plan.runs)

    (entry,) = (root / "sweeps" / load_sweep(path).name / expansion_cache.FOLDER).iterdir()
    entry.unlink()
    assert sweep_status(path, output_root=root).runs == plan.runs and expansions.calls == 1
    assert not entry.exists()  # a status writes nothing
