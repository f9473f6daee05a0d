"""`repro wandb sync ROOT`: upload the finished runs' offline W&B copies from a login node, a few at a time.

Why: on a cluster, runs log offline on the nodes (no W&B service timeouts, no throttling across an array), and the
W&B copies go up afterwards. `wandb sync --sync-all` goes one run at a time and remembers nothing of its failures;
this runs several `wandb sync <folder>` processes at once, each under a timeout, retries failures with backoff,
records per run what was uploaded, and says what is synced, failed and pending.

A unit is one offline folder, `<run_dir>/wandb/offline-run-*` (a run resumed in a new process has one per
process, all under the run's one W&B id). Its record is `<run_dir>/wandb_sync.json`, rewritten atomically:
`{"folders": {name: {"state": "synced" | "failed" | "started" | "interrupted" | "superseded", "attempts": n, "at": ...,
"error"}}}`.
- A folder recorded `synced` is never uploaded again (W&B's own `.wandb.synced` marker is a second guard).
- A folder recorded `superseded` is never uploaded: a later online attempt of the run re-sent every epoch the server
  lacked from the checkpoint's history (`WandbTracker.catch_up`), so uploading the older offline attempt would send
  those epochs twice and end the W&B summary with that unfinished attempt's (found by benchmarks/chaos.py).
- Only runs that ended (status done or failed) are synced: a running or interrupted run is `pending` (it may still
  write to its folder).
- Interrupted (Ctrl-C, SIGTERM): every `wandb sync` child is killed and its folder recorded `interrupted` (or left
  `started` if this process itself was killed); the next call uploads such a folder again, the one case where part
  of a run may be sent twice.
- One `repro wandb sync` per output root at a time (`<root>/wandb_sync.lock`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from repro.errors import UserError
from repro.runs.io import atomic_write_json, read_json
from repro.runs.rundir import RunDir
from repro.runs.runlock import FileLock

RECORD = "wandb_sync.json"
ENDED = ("done", "failed")
SUPERSEDED = "superseded"


@dataclass(frozen=True)
class SyncOptions:
    jobs: int = 4
    timeout: float = 600.0  # seconds one `wandb sync` may take
    retries: int = 2  # further tries of a failed folder in this call
    backoff: float = 5.0  # seconds before the first retry, doubled each time
    wandb: str | None = None  # the `wandb` executable; None: found on PATH or beside this Python


@dataclass
class SyncReport:
    synced: list[str] = field(default_factory=list)  # uploaded by this call
    already: list[str] = field(default_factory=list)  # recorded synced before
    failed: dict[str, str] = field(default_factory=dict)  # folder -> last error
    pending: list[str] = field(default_factory=list)  # runs still running or interrupted
    superseded: list[str] = field(default_factory=list)  # offline folders a later online attempt re-sent

    def lines(self) -> list[str]:
        out = [
            f"synced {len(self.synced)} (now) + {len(self.already)} (before), failed {len(self.failed)}, "
            f"pending {len(self.pending)} (runs not finished)"
            + (f", skipped {len(self.superseded)} (re-sent by a later online attempt)" if self.superseded else "")
        ]
        out += [f"  failed: {name}: {error}" for name, error in sorted(self.failed.items())]
        if self.pending:
            out.append(f"  pending: {', '.join(sorted(self.pending)[:10])}{' ...' if len(self.pending) > 10 else ''}")
        if self.failed:
            out.append("  run `repro wandb sync` again to retry the failed ones.")
        return out


def wandb_executable(explicit: str | None = None) -> str:
    found = explicit or shutil.which("wandb") or str(Path(sys.executable).with_name("wandb"))
    if not Path(found).exists() and not shutil.which(found):
        raise UserError(
            "No `wandb` executable found (not on PATH, not beside this Python): install W&B "
            "(`pip install wandb`) in this environment, or pass --wandb-exe PATH."
        )
    return found


# ------------------------------------------------------------------------------------------------ the records


class _Records:
    """Each run's wandb_sync.json, written under one lock (threads finish folders of the same run)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @staticmethod
    def read(run_dir: Path) -> dict:
        try:
            record = read_json(run_dir / RECORD)
        except (OSError, ValueError):
            return {"folders": {}}
        return record if isinstance(record, dict) and isinstance(record.get("folders"), dict) else {"folders": {}}

    def update(self, run_dir: Path, folder: str, **fields) -> None:
        with self._lock:
            record = self.read(run_dir)
            entry = record["folders"].setdefault(folder, {"attempts": 0})
            entry.update(fields, at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
            atomic_write_json(run_dir / RECORD, record)


# ------------------------------------------------------------------------------------------------ the plan


def offline_folders(run_dir: Path) -> list[Path]:
    """The run's offline W&B folders, oldest first (W&B names them offline-run-<YYYYMMDD_HHMMSS>-<id>): one per
    process, and the one a run switched to after an online call timed out (wandb_status.json lists it)."""
    folder = Path(run_dir) / "wandb"
    return sorted(p for p in folder.glob("offline-run-*") if p.is_dir()) if folder.is_dir() else []


def supersede_offline(run_dir: Path, folders: list[Path]) -> None:
    """Record `folders` (offline attempts of the run, not yet uploaded) as superseded: an online attempt has since
    sent the server every epoch they hold."""
    records = _Records()
    done = records.read(Path(run_dir))["folders"]
    for folder in folders:
        if (done.get(folder.name) or {}).get("state") != "synced":
            records.update(Path(run_dir), folder.name, state=SUPERSEDED)


def plan(root: Path, records: _Records) -> tuple[list[tuple[Path, Path]], SyncReport]:
    """(run dir, folder) pairs to upload now, and the report of what is skipped or pending."""
    runs = Path(root) / "runs"
    if not runs.is_dir():
        raise UserError(
            f"{root} has no runs/ folder: give the output root the runs were trained into (the output_root, or "
            "--output-root of `repro sweep`)."
        )
    todo, report = [], SyncReport()
    for run_path in sorted(p for p in runs.iterdir() if p.is_dir()):
        folders = offline_folders(run_path)
        if not folders:
            continue
        state = (RunDir(run_path).read_status() or {}).get("state")
        if state not in ENDED:
            report.pending.append(run_path.name)
            continue
        done = records.read(run_path)["folders"]
        for folder in folders:
            state = (done.get(folder.name) or {}).get("state")
            if state == "synced":
                report.already.append(f"{run_path.name}/{folder.name}")
            elif state == SUPERSEDED:
                report.superseded.append(f"{run_path.name}/{folder.name}")
            else:
                todo.append((run_path, folder))
    return todo, report


# ------------------------------------------------------------------------------------------------ uploading


class _Children:
    """The running `wandb sync` processes, so an interrupt can end them all (each leads its own process group)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: set[subprocess.Popen] = set()
        self.stopping = threading.Event()

    def run(self, argv: list[str], timeout: float) -> tuple[int | None, str]:
        """(exit code, the output's tail); exit code None: it outlived `timeout` and was killed."""
        with self._lock:
            if self.stopping.is_set():
                raise KeyboardInterrupt
            proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
            )
            self._procs.add(proc)
        try:
            out, _ = proc.communicate(timeout=timeout)
            return proc.returncode, out[-400:]
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, _ = proc.communicate()
            return None, (out or "")[-400:]
        finally:
            with self._lock:
                self._procs.discard(proc)

    def kill_all(self) -> None:
        self.stopping.set()
        with self._lock:
            for proc in list(self._procs):
                _kill_group(proc)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _sync_one(
    run_path: Path, folder: Path, *, exe: str, options: SyncOptions, records: _Records, children: _Children
) -> str | None:
    """Upload one folder, retrying; None when synced, else the last error."""
    error = "not tried"
    for attempt in range(options.retries + 1):
        if attempt:
            if children.stopping.wait(options.backoff * 2 ** (attempt - 1)):
                raise KeyboardInterrupt
        tries = int((records.read(run_path)["folders"].get(folder.name) or {}).get("attempts", 0)) + 1
        records.update(run_path, folder.name, state="started", attempts=tries)
        code, tail = children.run([exe, "sync", str(folder)], options.timeout)
        if children.stopping.is_set() and code != 0:  # killed by the interrupt, not failed
            records.update(run_path, folder.name, state="interrupted", error="the sync was interrupted")
            raise KeyboardInterrupt
        if code == 0:
            records.update(run_path, folder.name, state="synced", error=None)
            return None
        last = " ".join(tail.split())[-200:]
        error = f"timed out after {options.timeout:g} s" if code is None else f"exit {code}: {last}"
        records.update(run_path, folder.name, state="failed", error=error)
    return error


def _sync_run(run_path: Path, folders: list[Path], **kwargs) -> list[tuple[str, str | None]]:
    """Upload a run's folders in order (a later one resumes the W&B run an earlier one began), stopping at the
    first that fails; [(run/folder, None when synced, else the error)]."""
    done: list[tuple[str, str | None]] = []
    for i, folder in enumerate(folders):
        error = _sync_one(run_path, folder, **kwargs)
        done.append((f"{run_path.name}/{folder.name}", error))
        if error is not None:
            later = f"not sent: {folder.name} before it failed"
            done += [(f"{run_path.name}/{f.name}", later) for f in folders[i + 1 :]]
            break
    return done


def sync_root(root: Path, options: SyncOptions, *, say: Callable[[str], None] = print) -> SyncReport:
    """Sync every finished run's offline folders under `root` (module docstring)."""
    exe = wandb_executable(options.wandb)
    records, children = _Records(), _Children()
    plan(Path(root), records)  # a wrong ROOT is refused before the lock file is written there
    with FileLock(Path(root) / "wandb_sync.lock", what=f"`repro wandb sync` of {root}").acquire():
        todo, report = plan(Path(root), records)
        before = len(report.already)
        say(f"{len(todo)} offline W&B folder(s) to upload, {before} synced before, {options.jobs} at a time")
        pool = ThreadPoolExecutor(max_workers=max(1, options.jobs))
        runs: dict[Path, list[Path]] = {}
        for run_path, folder in todo:
            runs.setdefault(run_path, []).append(folder)
        try:  # from the first submit: an interrupt while the later ones are submitted kills the started uploads too
            futures = [
                pool.submit(_sync_run, run_path, folders, exe=exe, options=options, records=records, children=children)
                for run_path, folders in runs.items()
            ]
            for future in futures:
                for name, error in future.result():
                    if error is None:
                        report.synced.append(name)
                    else:
                        report.failed[name] = error
                    say(f"  {'synced' if error is None else 'FAILED'}  {name}")
        except BaseException:
            children.kill_all()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    return report
