"""One tiny finished run per method kind, trained once per test session (once per pytest-xdist worker) when a test
first asks for it, for the tests that only read what a run leaves: its run directory, summary, metrics and records.

    def test_reads(trained_runs):
        rows = trained_runs("baseline").read_metrics()            # read only: later tests read the same directory

    def test_writes(trained_runs, tmp_path):
        rd = trained_runs.copy("baseline", tmp_path)              # tmp_path/runs/<run id>: resume it, damage it, ...

Any registered method (repro.methods.METHODS) trains on request, at the noisy preset of tests/presets.py (NOISY) or
with preset="clean" at CLEAN, for two epochs (a per-epoch record appears twice); `overrides` gives the command line
that composes the run, so a test can run `repro train` on its copy. A method that learns from another finished run (a
teacher, a label source, fold runs) refuses to start without it: a test of one trains its own. Ask for a run before
patching anything training uses: the first request trains it inside that test.

A test that wrote into a shared run would change what later tests read: each request checks that the run's files
are as they were trained (size and modification time) and fails naming those that changed. Registered for every test
by tests/conftest.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from presets import CLEAN, NOISY
from repro.config import load_config
from repro.methods import METHODS
from repro.runs.rundir import RunDir
from repro.train import train

PRESETS = {"noisy": [*NOISY, "optim.epochs=2"], "clean": [*CLEAN, "optim.epochs=2"]}


def _files(path: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(path)): (p.stat().st_size, p.stat().st_mtime_ns) for p in path.rglob("*") if p.is_file()}


class TrainedRuns:
    """The session's shared runs under `root/<preset>/runs/`, trained on first request."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._runs: dict[tuple[str, str], tuple[RunDir, dict[str, tuple[int, int]]]] = {}

    @staticmethod
    def overrides(method: str, preset: str = "noisy") -> list[str]:
        """The overrides that compose the shared run of `method` (without output_root)."""
        if method not in METHODS:
            raise ValueError(f"no registered method {method!r}; the methods are: {', '.join(METHODS)}")
        if preset not in PRESETS:
            raise ValueError(f"no preset {preset!r}; the presets are: {', '.join(PRESETS)}")
        return [*PRESETS[preset], f"method={method}"]

    def __call__(self, method: str, preset: str = "noisy") -> RunDir:
        """The finished shared run of `method` at `preset`: read it, never write into it."""
        key = (method, preset)
        if key not in self._runs:
            result = train(load_config([*self.overrides(method, preset), f"output_root={self.root / preset}"]))
            assert result.run_dir.is_done(), result.run_dir.path
            self._runs[key] = (result.run_dir, _files(result.run_dir.path))
        self.check(*key)
        return self._runs[key][0]

    def copy(self, method: str, dest: Path, preset: str = "noisy") -> RunDir:
        """A copy of the shared run as dest/runs/<run id> (dest: an output root), for a test that writes into it."""
        rd = self(method, preset)
        return RunDir(Path(shutil.copytree(rd.path, dest / "runs" / rd.run_id)))

    def check(self, method: str, preset: str) -> None:
        """Fail, naming them, if files of the shared run changed since it was trained."""
        rd, trained = self._runs[(method, preset)]
        now = _files(rd.path)
        changed = sorted(name for name in trained.keys() | now.keys() if trained.get(name) != now.get(name))
        assert not changed, (
            f"a test changed the shared run {rd.path} ({', '.join(changed)}): a test that writes into a run takes "
            "trained_runs.copy(...)"
        )

    def check_all(self) -> None:
        for key in self._runs:
            self.check(*key)


@pytest.fixture(scope="session")
def trained_runs(tmp_path_factory: pytest.TempPathFactory):
    """The session's TrainedRuns; at the end, every shared run is checked once more for writes."""
    runs = TrainedRuns(tmp_path_factory.mktemp("trained_runs"))
    yield runs
    runs.check_all()
