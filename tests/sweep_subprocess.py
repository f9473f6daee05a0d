"""Test helper: `repro sweep --jobs 2` run as a real command in a subprocess, and its workers frozen on events.

The signal tests of the local executor (tests/sweep/test_sweep_parallel.py: Ctrl-C and SIGTERM;
tests/sweep/executors/test_sweep_orphans.py: kill -9) share one setup: a two-seed digits baseline sweep with enough
epochs that neither run can finish while the test looks, the command that trains it two at a time, and the step that
makes the test independent of machine speed: each worker is stopped (SIGSTOP) the moment its run is past a given epoch,
so both runs are provably training when the command is signalled, and let go (SIGCONT) afterwards whatever happened.

Import it from a test module (a tests/ helper, imported by name: pyproject.toml's pytest `pythonpath`)::

    from sweep_subprocess import frozen_workers, sweep_command, two_seed_sweep
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

from presets import QUIET
from repo_paths import REPO
from repro.runs.rundir import RunDir
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.spec.model import Scale
from repro.sweep.sweep_file import load_sweep

HANG_GUARD_S = 600  # only ever reached when something hangs or is left behind; the waits end on events

TWO_SEED_SWEEP = """
    name: {name}
    metric: final_test_acc
    seeds: [0, 1]
    common: [split=full]
    columns:
      Digits/SmallCNN: [data=digits, model=smallcnn]
    rows:
      Baseline: [method=baseline]
"""
SUBSET = 100  # training and test samples of each run: an epoch takes milliseconds


def two_seed_sweep(tmp_path: Path, name: str) -> Path:
    """Write the two-run sweep file (one digits baseline cell, seeds 0 and 1) and return its path."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(TWO_SEED_SWEEP.format(name=name)))
    return path


def planned_run_dirs(path: Path, out: Path, *, epochs: int) -> list[RunDir]:
    """The run directories `sweep_command(path, out, epochs=epochs)` trains, in the plan's order."""
    scale = Scale(epochs=epochs, subset=SUBSET, test_subset=SUBSET)
    runs = expand_sweep(load_sweep(path), output_root=out.resolve(), scale=scale)
    return [RunDir(out / "runs" / r.run_id) for r in runs]


def sweep_command(path: Path, out: Path, *, epochs: int, jobs: int = 2) -> list[str]:
    """`python -m repro.cli sweep PATH` with the QUIET overrides at the helper's scale, `jobs` runs at a time."""
    scale = ["--epochs", str(epochs), "--subset", str(SUBSET), "--test-subset", str(SUBSET)]
    where = ["--output-root", str(out), "--jobs", str(jobs)]
    return [sys.executable, "-m", "repro.cli", "sweep", str(path), *QUIET, *where, *scale]


def subprocess_env() -> dict[str, str]:
    """This environment with the repository first on PYTHONPATH, so the command imports the code under test."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}


def wait_for(
    predicate: Callable[[], bool],
    what: str,
    *,
    guard_s: float = HANG_GUARD_S,
    poll_s: float = 0.1,
    explain: Callable[[], str] = str,
) -> None:
    """Wait for an event, polling; the bound only turns a hang into a failure naming `what`, and showing `explain()`
    (the state a reader needs to tell a hang from a fault)."""
    deadline = time.monotonic() + guard_s
    while not predicate():
        assert time.monotonic() < deadline, f"{what} did not happen within {guard_s} s\n{explain()}"
        time.sleep(poll_s)


def status_epoch(rd: RunDir) -> int:
    """The last epoch the run's status.json reports (0 before the first), -1 while it has none."""
    try:
        return int(json.loads(rd.status_file.read_text()).get("epoch") or 0)
    except (OSError, ValueError):
        return -1


@contextmanager
def frozen_workers(
    proc: subprocess.Popen,
    rds: Sequence[RunDir],
    past: Sequence[int],
    *,
    output: Callable[[], str],
    guard_s: float = HANG_GUARD_S,
) -> Iterator[set[int]]:
    """Freeze each run's worker (the pid in its lock file) as soon as the run is past epoch `past[i]`, and yield
    the frozen pids once every run is frozen: both train at once, however fast or loaded the machine. On leaving,
    every frozen worker is let go, also when the wait failed. `output()` is what the failure shows should the
    command exit first."""
    frozen: dict[int, int] = {}

    def freeze_each_past() -> bool:
        assert proc.poll() is None, output()
        for i, rd in enumerate(rds):
            if i not in frozen and status_epoch(rd) > past[i]:
                frozen[i] = int(json.loads(rd.lock_file.read_text())["pid"])
                os.kill(frozen[i], signal.SIGSTOP)
        return len(frozen) == len(rds)

    def state() -> str:
        statuses = [rd.status_file.read_text() if rd.status_file.exists() else "no status" for rd in rds]
        return f"frozen runs: {sorted(frozen)}; statuses: {statuses}; output:\n{output()[-4000:]}"

    try:
        wait_for(freeze_each_past, "every run training at once", guard_s=guard_s, poll_s=0.005, explain=state)
        yield set(frozen.values())
    finally:
        for pid in frozen.values():
            os.kill(pid, signal.SIGCONT)
