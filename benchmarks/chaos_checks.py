"""What benchmarks/chaos.py checks once a sweep it disturbed is done, run by run, against an undisturbed reference of
the same runs: each check returns the problems it found (an empty list: it held)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from repro.runs import provenance
from repro.runs.io import TEMP_PATTERN
from repro.runs.rundir import RunDir

LOCKS = ("writer.lock", "submit.lock", "wandb_sync.lock")


def without_seconds(rows: list[dict]) -> list[dict]:
    """Metrics rows less the wall-clock time, the one field two identical runs differ in."""
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def finished_once(rd: RunDir) -> list[str]:
    """Done, by exactly one process's session, and never trained again as a new attempt."""
    if not rd.is_done():
        return [f"{rd.run_id}: not done"]
    sessions = provenance.read(rd.path).get("sessions", [])
    done = [s for s in sessions if s.get("state") == "done"]
    problems = [] if len(done) == 1 else [f"{rd.run_id}: {len(done)} sessions ended done"]
    attempts = rd.path.parent.parent / "attempts" / rd.run_id
    return problems + ([f"{rd.run_id}: trained again as a new attempt"] if attempts.exists() else [])


def epochs_once(rd: RunDir, epochs: int) -> list[str]:
    """Every epoch in metrics.jsonl once, in order, and the summary counts them all."""
    got = [row.get("epoch") for row in rd.read_metrics()]
    problems = [] if got == list(range(1, epochs + 1)) else [f"{rd.run_id}: epochs {got}"]
    summary = rd.read_summary() or {}
    return problems + (
        [] if summary.get("epochs") == epochs else [f"{rd.run_id}: summary says {summary.get('epochs')}"]
    )


def one_writer(rd: RunDir) -> list[str]:
    """No process lost the run's lock to another while it wrote, and its sessions never overlap: each one started
    after the one before it ended (a killed session has no end; the next one took its lock over)."""
    log = rd.log_file.read_text() if rd.log_file.exists() else ""
    problems = [f"{rd.run_id}: {line.strip()}" for line in log.splitlines() if "lost the lock" in line]
    sessions = provenance.read(rd.path).get("sessions", [])
    for before, after in zip(sessions, sessions[1:]):
        if before.get("ended") and after.get("started") and after["started"] < before["ended"]:
            problems.append(f"{rd.run_id}: a session started {after['started']} before the one before ended")
    return problems


def nothing_stale(output_root: Path) -> list[str]:
    """No lock file and no temp file left anywhere in the output root (W&B's own folders aside)."""
    left = [p for name in LOCKS for p in output_root.rglob(name)]
    left += [p for p in output_root.rglob(TEMP_PATTERN) if "wandb" not in p.relative_to(output_root).parts]
    return [f"left behind: {p.relative_to(output_root)}" for p in left]


def same_as_reference(rd: RunDir, reference: RunDir) -> list[str]:
    """The final summary's metric and every epoch's metrics equal, bit for bit, those of the undisturbed run."""
    ours, theirs = rd.read_summary() or {}, reference.read_summary() or {}
    problems = []
    if ours.get("final_test_acc") != theirs.get("final_test_acc"):
        problems.append(f"{rd.run_id}: final_test_acc {ours.get('final_test_acc')} != {theirs.get('final_test_acc')}")
    if without_seconds(rd.read_metrics()) != without_seconds(reference.read_metrics()):
        problems.append(f"{rd.run_id}: its metrics differ from the undisturbed run's")
    return problems


def wandb_complete(rd: RunDir, runs: Mapping[str, Any], epochs: int) -> list[str]:
    """What the W&B server holds of the run once synced: each epoch's row once, and the final summary."""
    ids = rd.path / "wandb_id.txt"
    if not ids.exists():
        return [f"{rd.run_id}: no W&B id"]
    record = runs.get(ids.read_text().strip())
    if record is None:
        return [f"{rd.run_id}: unknown to the W&B server"]
    got = sorted(row["epoch"] for row in record.history.values() if "accuracy/test" in row)
    problems = [] if got == list(range(1, epochs + 1)) else [f"{rd.run_id}: W&B epochs {got}"]
    final = (rd.read_summary() or {}).get("final_test_acc")
    if record.summary.get("summary/final_test_acc") != final:
        problems.append(f"{rd.run_id}: W&B final_test_acc {record.summary.get('summary/final_test_acc')} != {final}")
    return problems


def status_right(said: Mapping[str, Any]) -> list[str]:
    """A fault's status check (chaos_scenario.py): the process it hit ended (where the fault is meant to end it), and
    status stopped calling the run running within the bound."""
    if not said.get("status_checked"):
        return []
    lived_on = said.get("process_ended") is False
    problems = [f"{said['fault']} of {said.get('run')}: its process lived on"] if lived_on else []
    if said.get("status_within_s") is None:
        problems.append(f"{said['fault']} of {said.get('run')}: status still said {said.get('status_seen')}")
    return problems


def load_report(path: Path) -> dict:
    return json.loads(path.read_text())
