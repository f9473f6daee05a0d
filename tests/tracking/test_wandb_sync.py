"""`repro wandb sync ROOT` through a stand-in `wandb` executable (as submitit's tests stand in for `sbatch`): it
uploads the finished runs' offline folders a few at a time, retries failures, cuts a hanging upload at its timeout,
reports synced / failed / pending, never uploads a folder twice, and an interrupted call leaves nothing running
and is finished by the next one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from repro.cli import main
from repro.runs.rundir import RunDir
from repro.tracking.tracker import WandbTracker
from repro.tracking.wandb_sync import RECORD, _Records, plan

STANDIN = """\
    #!{python}
    # a stand-in for `wandb sync FOLDER`: FOLDER/standin.txt says what to do (ok, fail, fail-once, hang)
    import os, pathlib, sys, time
    folder = pathlib.Path(sys.argv[2])
    with open(os.environ["STANDIN_LOG"], "a") as log:
        log.write(f"{{folder.parent.parent.name}}/{{folder.name}} {{os.getpid()}}\\n")
    what = (folder / "standin.txt").read_text().strip() if (folder / "standin.txt").exists() else "ok"
    tries = folder / "standin.tries"
    tries.write_text(str(int(tries.read_text()) + 1 if tries.exists() else 1))
    if what == "hang":
        (folder / "standin.hanging").touch()  # the known point a test interrupts it at: its tries written
        time.sleep(300)  # bounded; the sync's timeout kills it long before
    if what == "fail" or (what == "fail-once" and tries.read_text() == "1"):
        print("wandb: ERROR 429 Too Many Requests")
        sys.exit(1)
"""


def _standin(tmp_path: Path, monkeypatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "wandb"
    exe.write_text(textwrap.dedent(STANDIN.format(python=sys.executable)))
    exe.chmod(0o755)
    log = tmp_path / "calls.log"
    log.touch()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STANDIN_LOG", str(log))
    return log


def _run(root: Path, name: str, state: str, *behaviours: str) -> RunDir:
    """A run directory in `state` with one offline W&B folder per behaviour."""
    rd = RunDir(root / "runs" / name)
    rd.path.mkdir(parents=True)
    rd.write_status(state, epoch=1)
    for i, what in enumerate(behaviours):
        folder = rd.path / "wandb" / f"offline-run-20260101_00000{i}-{name}-abcd1234"
        folder.mkdir(parents=True)
        (folder / f"run-{name}-abcd1234.wandb").write_bytes(b"")
        (folder / "standin.txt").write_text(what)
    return rd


def _calls(log: Path) -> list[str]:
    return [line.split()[0] for line in log.read_text().splitlines()]


@pytest.mark.slow
def test_sync_uploads_retries_reports_and_never_uploads_twice(tmp_path, monkeypatch, capsys):
    log = _standin(tmp_path, monkeypatch)
    root = tmp_path / "out"
    _run(root, "a", "done", "ok")
    _run(root, "b", "done", "ok", "ok")  # resumed once: two processes, two folders
    _run(root, "c", "failed", "fail-once")  # a failed run's W&B copy goes up too
    stuck = _run(root, "d", "done", "fail")
    hangs = _run(root, "e", "done", "hang")
    _run(root, "f", "running", "ok")  # may still write to its folder
    cut = _run(root, "g", "done", "ok")  # an earlier call was interrupted during its upload
    _Records().update(cut.path, next((cut.path / "wandb").iterdir()).name, state="started", attempts=1)
    args = ["wandb", "sync", str(root), "--jobs", "3", "--timeout", "2", "--retries", "1", "--backoff", "0.05"]

    assert main(args) == 1
    out = capsys.readouterr().out
    assert "synced 5 (now) + 0 (before), failed 2, pending 1 (runs not finished)" in out
    assert "d/offline-run-" in out and "exit 1: wandb: ERROR 429" in out and "timed out after 2 s" in out
    calls = _calls(log)
    per_run = {run: sum(c.startswith(f"{run}/") for c in calls) for run in "abcdefg"}
    assert per_run == {"a": 1, "b": 2, "c": 2, "d": 2, "e": 2, "f": 0, "g": 1}  # a retry each for c, d, e

    for rd in (stuck, hangs):  # W&B answers again
        (next((rd.path / "wandb").iterdir()) / "standin.txt").write_text("ok")
    assert main(args) == 0
    assert "synced 2 (now) + 5 (before), failed 0, pending 1" in capsys.readouterr().out
    assert len(_calls(log)) == len(calls) + 2  # only d and e went up

    assert main(args) == 0  # a third call uploads nothing
    assert "synced 0 (now) + 7 (before), failed 0, pending 1" in capsys.readouterr().out
    assert len(_calls(log)) == len(calls) + 2
    record = (root / "runs" / "e" / RECORD).read_text()
    assert '"state": "synced"' in record and '"attempts": 3' in record


@pytest.mark.slow
def test_an_interrupted_sync_kills_its_uploads_and_the_next_call_finishes_them(tmp_path, monkeypatch):
    log = _standin(tmp_path, monkeypatch)
    root = tmp_path / "out"
    hangs = _run(root, "a", "done", "hang")
    _run(root, "b", "done", "ok")
    command = [sys.executable, "-m", "repro.cli", "wandb", "sync", str(root), "--jobs", "2", "--timeout", "300"]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # SIGINT at its default, as in a terminal: a shell's background job (`pytest ... &`) starts with SIGINT
        # ignored, the child inherits that, Python keeps it ignored and the SIGINT below would do nothing
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        # Interrupted once its upload hangs, past its write of the tries file: interrupted as it started, that
        # write was left empty and the next call's upload failed on it. A hang guard only bounds the wait.
        deadline = time.monotonic() + 600
        hanging = [folder / "standin.hanging" for folder in (hangs.path / "wandb").iterdir()]
        while not all(marker.exists() for marker in hanging) and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=600)  # a hang guard: it ends on the signal
    finally:
        proc.kill()
    assert proc.returncode == 130, out
    (pid,) = [int(line.split()[1]) for line in log.read_text().splitlines() if line.startswith("a/")]
    for _ in range(200):  # killed with its process group; gone once reaped
        if not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]:
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"the stand-in upload {pid} outlived the interrupted sync")
    folder = next((hangs.path / "wandb").iterdir())
    assert '"state": "interrupted"' in (hangs.path / RECORD).read_text()
    (folder / "standin.txt").write_text("ok")
    assert main(["wandb", "sync", str(root), "--backoff", "0"]) == 0
    assert '"state": "synced"' in (hangs.path / RECORD).read_text()


def test_a_root_without_runs_is_refused_and_nothing_is_written_there(tmp_path, monkeypatch, capsys):
    _standin(tmp_path, monkeypatch)
    assert main(["wandb", "sync", str(tmp_path / "typo")]) == 2
    assert "has no runs/ folder" in capsys.readouterr().err and not (tmp_path / "typo").exists()


def _superseding_tracker(run_dir: Path, *, goes_offline: bool = False) -> WandbTracker:
    """A W&B tracker resumed online whose server has the first epoch (the W&B service stood in: `log` records)."""
    tracker = object.__new__(WandbTracker)
    session = SimpleNamespace(off=False, online=True, run=SimpleNamespace(starting_step=1))
    tracker.session, tracker.run_dir, tracker.sent = session, run_dir, []

    def log(row, step):
        tracker.sent.append(step)
        session.online = not goes_offline  # a timeout switches the rest of the run offline

    tracker.log = log
    return tracker


def test_an_offline_attempt_caught_up_online_later_is_never_uploaded(tmp_path):
    """An attempt that logged offline and was killed, then resumed online: the online attempt re-sends every epoch
    the server lacks from the checkpoint's history, so the offline folder is superseded (uploading it would send
    those epochs twice and end the summary with the unfinished attempt's); a synced folder stays as it was."""
    root = tmp_path / "out"
    rd = _run(root, "r", "done", "ok", "ok")
    older, synced = sorted((rd.path / "wandb").iterdir())
    _Records().update(rd.path, synced.name, state="synced", attempts=1)
    tracker = _superseding_tracker(rd.path)
    tracker.catch_up([{"epoch": e} for e in range(4)])
    assert tracker.sent == [1, 2, 3]
    todo, report = plan(root, _Records())
    assert todo == [] and report.superseded == [f"r/{older.name}"] and report.already == [f"r/{synced.name}"]
    assert "skipped 1 (re-sent by a later online attempt)" in report.lines()[0]


def test_a_catch_up_cut_short_offline_leaves_the_earlier_offline_attempt_to_upload(tmp_path):
    root = tmp_path / "out"
    rd = _run(root, "r", "done", "ok")
    _superseding_tracker(rd.path, goes_offline=True).catch_up([{"epoch": e} for e in range(4)])
    todo, report = plan(root, _Records())
    assert [folder.name for _, folder in todo] == [p.name for p in (rd.path / "wandb").iterdir()]
    assert not report.superseded
