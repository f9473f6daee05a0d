"""`<run_dir>/wandb_status.json`: what W&B got of a run, what it cost, and what is left for `repro wandb sync`.

Fields: `requested` (the mode asked for); `logged_to` (`online`; `offline` when the run logged offline from its start
or switched to offline after a call timed out; null when W&B could not start at all); `went_offline_after` (the call
whose timeout switched it); `complete` (false when W&B did not get everything in the mode asked for);
`budget` and `seconds_waited` (tracker.timeouts.total, and every second spent in W&B calls, all counted);
`calls` (per call: how many, seconds); `timed_out` (each call cut at its deadline); `problems` (each failed call
with W&B's error and its `cause` in plain words); `cause` (the first problem's); `unsent` (the run's W&B folders
under <run_dir>/wandb/ that `repro wandb sync` sends, and why).

W&B words a service that did not answer as "AuthenticationError: Failed to verify credentials"; `cause` says what
happened instead ("the server stopped answering"), so nobody renews a key that was never refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from repro.runs.io import atomic_write_json, read_json

STATUS_FILE = "wandb_status.json"
SILENT = "the server stopped answering"
BUDGET_SPENT = "budget is spent"  # in the error of a call the budget left no time for (wandb_session.py)
_CAUSES = (  # (pattern in W&B's error, plain words); the first match wins
    (r"timed? ?out|deadline exceeded|did not (return|respond|answer)|busy and did not respond", SILENT),
    (r"\b429\b|too many requests|rate limit", "the server throttled the run (429 Too Many Requests)"),
    (r"\b5\d\d\b|internal server error|bad gateway|service unavailable", "the server failed (HTTP 5xx)"),
    (
        r"connection (refused|reset|aborted)|\beof\b|remote end closed|broken pipe|connection.*closed",
        "the connection to the server was refused or cut",
    ),
    (
        r"\b(401|403)\b|unauthori[sz]ed|forbidden|invalid api key|api key.*(invalid|not valid)",
        "the server refused the credentials (check WANDB_API_KEY or `wandb login`)",
    ),
    (r"service process is not running", "W&B's service process ended"),
)


def plain_cause(error: BaseException | str, *, after_timeout: bool = False) -> str:
    """What went wrong, in plain words, from W&B's error. "Failed to verify credentials" is W&B's wording for a
    login check that got no answer: after a timeout, or with no refusal in it, it is a server that stopped
    answering."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    lowered = text.lower()
    if BUDGET_SPENT in lowered:
        return "the run's W&B budget (tracker.timeouts.total) was spent"
    if isinstance(error, TimeoutError):
        return SILENT
    if "failed to verify credentials" in lowered and (after_timeout or not re.search(r"\b(401|403)\b", lowered)):
        return SILENT
    for pattern, words in _CAUSES:
        if re.search(pattern, lowered):
            return words
    return "W&B failed: " + " ".join(text.split())[:160]


class WandbStatus:
    """`<run_dir>/wandb_status.json`: rewritten atomically whenever it changes (start, each problem, finish)."""

    def __init__(self, run_dir: Path, *, requested: str, budget: float | None = None) -> None:
        self.path = Path(run_dir) / STATUS_FILE
        self.record: dict[str, Any] = {
            "requested": requested,
            "logged_to": None,
            "complete": None,
            "budget": budget,
            "seconds_waited": 0.0,
            "calls": {},
            "timed_out": [],
            "problems": [],
        }

    def problem(self, call: str, error: BaseException | str, seconds: float | None = None) -> None:
        text = error if isinstance(error, str) else f"{type(error).__name__}: {' '.join(str(error).split())[:300]}"
        cause = plain_cause(error, after_timeout=bool(self.record["timed_out"]))
        entry: dict[str, Any] = {"call": call, "error": text, "cause": cause}
        if seconds is not None:
            entry["seconds"] = round(seconds, 2)
        self.record["problems"].append(entry)
        self.record.setdefault("cause", cause)
        self.record["complete"] = False
        self.write()

    def timed_out(self, call: str, seconds: float) -> None:
        self.record["timed_out"].append({"call": call, "seconds": round(seconds, 2)})

    def set(self, **fields: Any) -> None:
        self.record.update(fields)
        self.write()

    def waited(self, call: str, seconds: float) -> None:
        """Seconds the run spent in one W&B call: added to its call's count and to the total."""
        entry = self.record["calls"].setdefault(call, {"count": 0, "seconds": 0.0})
        entry["count"] += 1
        entry["seconds"] = round(entry["seconds"] + seconds, 3)
        self.record["seconds_waited"] = round(self.record["seconds_waited"] + seconds, 3)

    def unsent(self, folders: list[str], why: str) -> None:
        """The run's W&B folders (names under <run_dir>/wandb/) that hold what W&B did not get."""
        self.record["unsent"] = {
            "folders": folders,
            "why": why,
            "send": "`repro wandb sync <output_root>` sends them (it reads this list)",
        }

    def finished(self, *, complete: bool) -> None:
        self.set(complete=complete and not self.record["problems"])

    def write(self) -> None:
        try:
            atomic_write_json(self.path, self.record)
        except OSError:  # the run directory is the record; this file never stops a run
            pass


def read_status(run_dir: Path) -> dict[str, Any] | None:
    path = Path(run_dir) / STATUS_FILE
    try:
        record = read_json(path)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None
