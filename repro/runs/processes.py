"""Whether a process still runs: the one liveness check of the code base, for the run lock (is the holder on this
host gone?) and the local executor's workers (is their command gone?).

A process is alive when `kill(pid, 0)` finds it (one owned by another user counts) and it is no zombie (dead, not
yet reaped by its parent: it can write nothing more). Given the start time recorded with its pid (`process_start`),
it must also be that same process: a pid reused by a later process is not the holder that wrote it down.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["is_alive", "process_start"]


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat's fields after the command name (state first), or None where there is no /proc entry."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rindex(")") + 2 :].split()
    except (OSError, ValueError):
        return None


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), or None where it cannot be read."""
    fields = _stat_fields(pid)
    return fields[19] if fields is not None and len(fields) > 19 else None


def is_alive(pid: int, start: str | None = None) -> bool:
    """Whether process `pid` runs (a zombie counts as gone); with `start` (its `process_start` when recorded), whether
    it is still that process. Where /proc cannot tell (not Linux), what kill(pid, 0) says."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, another user's
    fields = _stat_fields(pid)
    if fields is None:
        return True
    if fields[0] == "Z":
        return False
    return start is None or len(fields) <= 19 or fields[19] == start
