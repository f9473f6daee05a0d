"""Retraining a done run on purpose (`repro train --rerun`), and telling when a done run is from other code.

Layout: the current attempt of a run is always `<output_root>/runs/<run_id>/` (what tables, figures, sweeps and the
runs that depend on it read); `--rerun` moves the done attempt, whole and unchanged, to
`<output_root>/attempts/<run_id>/<n>/` (n = 1, 2, ...: oldest first) and trains a new attempt in the run's directory.
Nothing is overwritten or deleted. The move happens under the run's lock (repro/runs/runlock.py), so a run has one
writer
throughout; an interrupted new attempt resumes like any run (`repro train` with the same overrides).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from repro.runs import provenance
from repro.runs.rundir import RunDir
from repro.runs.runlock import FileLock


def attempts_dir(rd: RunDir) -> Path:
    """Where earlier attempts of the run are kept: `<output_root>/attempts/<run_id>/`."""
    return rd.path.parent.parent / "attempts" / rd.run_id


def earlier_attempts(rd: RunDir) -> list[Path]:
    """The kept earlier attempts, oldest first."""
    folder = attempts_dir(rd)
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name))


def attempt_number(rd: RunDir) -> int:
    """1 for a run never rerun; n + 1 after n kept attempts."""
    kept = earlier_attempts(rd)
    return int(kept[-1].name) + 1 if kept else 1


def tracker_id(rd: RunDir) -> str:
    """The W&B run id of the current attempt: the run id, then `-attempt2`, ... so attempts never share a W&B run
    (`repro tables --wandb` reads the latest attempt of each run, as tables from run directories do)."""
    n = attempt_number(rd)
    return rd.run_id if n == 1 else f"{rd.run_id}-attempt{n}"


def split_tracker_id(name: str) -> tuple[str, int]:
    """(run id, attempt) of a W&B run id made by `tracker_id`."""
    base, sep, n = name.rpartition("-attempt")
    return (base, int(n)) if sep and n.isdigit() else (name, 1)


def archive_done_run(rd: RunDir, wait: float | bool = False) -> Path | None:
    """Move the done run to its next attempt folder, under the run's lock; returns where it went (None when it was
    no longer done once the lock was ours: another `--rerun` moved it first)."""
    lock = rd.hold(wait)
    try:
        if not rd.is_done():
            return None
        dest = attempts_dir(rd) / str(attempt_number(rd))
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.rename(rd.path, dest)  # atomic; the lock file moves with it and is removed below
    finally:
        lock.release()
    moved_lock = dest / rd.lock_file.name  # ours: the kept attempt is otherwise left byte for byte as it was
    if (FileLock.read_file(moved_lock) or {}).get("token") == lock.token:
        moved_lock.unlink(missing_ok=True)
    rd.log(f"attempt {int(dest.name) + 1} (`--rerun`); the done attempt {dest.name} is kept in {dest}")
    return dest


def commit_note(rd: RunDir, now: str | None = None) -> str | None:
    """'made at commit abc, the code is now at def' when the done run's last session ran another commit than this
    checkout's (provenance.json); None when they agree or either is unknown."""
    record = provenance.read(rd.path)
    sessions = record.get("sessions") or []
    made = (sessions[-1] if sessions else record).get("commit")
    now = now or provenance.git_state().get("commit")
    if not made or not now or made == now:
        return None
    return f"made at commit {made[:10]}, the code is now at commit {now[:10]}"


def report_other_commits(plan: Any, report: Callable[[str], None]) -> None:
    """Say which done runs of a plan (skipped: they are done) were made at another commit than this checkout's."""
    now = provenance.git_state().get("commit")
    if not now:
        return
    notes = [
        (rid, note)
        for rid, st in plan.status.items()
        if st.state == "done" and (note := commit_note(RunDir(plan.output_root / "runs" / rid), now))
    ]
    for rid, note in notes[:5]:
        report(f"run {rid} is done ({note}); skipped.")
    if len(notes) > 5:
        report(f"... and {len(notes) - 5} more done run(s) made at another commit; skipped.")
    if notes:
        report(
            "Done runs are never retrained by themselves: `repro train --rerun <overrides>` (or `repro train -m "
            "... --rerun`) trains a new attempt and keeps the done one."
        )
