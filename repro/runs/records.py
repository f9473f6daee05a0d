"""Reading another run's records: the one contract every consumer uses (a tuned run reading its tuning runs, a
student its teacher or label source, loss correction its estimator, a replay run its fold runs, the sweep planner
every run it plans).

Why one reader: records are written atomically (repro/runs/io.py), yet a file can still be damaged after the fact (a
disk
full while a copy ran, an interrupted rsync, a hand edit). Read ad hoc, such a file became a 30-line traceback in
whichever consumer met it first, and the planner counted a run as done because its summary existed. Here a record
that exists but cannot be read is a `DamagedRecord`: a one-paragraph UserError naming the run, the file and what is
wrong, and saying what to do: `repro train --rerun <its overrides>` (the damaged attempt is kept under
<output_root>/attempts/), or deleting the run directory so that the sweep that planned it trains it again. The
planner asks `summary_state` and shows such a run as `damaged` and resubmits it (repro/sweep/plan.py).
"""

from __future__ import annotations

import json
import shlex
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import yaml

from repro.errors import UserError
from repro.runs.rundir import RunDir
from repro.runs.yaml_text import load_yaml

DONE, MISSING, DAMAGED = "done", "missing", "damaged"


class DamagedRecord(UserError):
    """A record of a finished (or started) run that exists but cannot be read."""

    def __init__(self, rd: RunDir, file: Path, problem: str, *, role: str = "run") -> None:
        self.run_dir, self.file, self.problem = rd, Path(file), problem
        super().__init__(
            f"The {role} {rd.run_id} has a damaged {_relative(rd, file)} ({file}): {problem}. It was left as it is. "
            f"Train that run again: {rerun_hint(rd)} trains a new attempt and keeps the damaged one under "
            f"{rd.path.parent.parent / 'attempts' / rd.run_id}; or, for a run a sweep planned, delete its directory "
            f"({rd.path}) and run the sweep again (`repro sweep` shows it as damaged and retrains it)."
        )


def rerun_hint(rd: RunDir) -> str:
    """`repro train --rerun <overrides>` as the run was last trained by `repro train` (provenance.json's argv), or
    the generic form when it was trained otherwise (a sweep) or the record is missing."""
    try:
        record = json.loads((rd.path / "provenance.json").read_text(encoding="utf-8"))
        sessions = record.get("sessions") or [record]
        argv = [str(a) for a in sessions[-1].get("argv") or []]
    except (OSError, ValueError, AttributeError, TypeError):
        argv = []
    if len(argv) > 1 and argv[1] == "train" and "-m" not in argv and "--multirun" not in argv:
        overrides = [a for a in argv[2:] if "=" in a and not a.startswith("-")]
        return "`repro train --rerun " + " ".join(shlex.quote(o) for o in overrides) + "`"
    return "`repro train --rerun <that run's overrides>`"


@contextmanager
def reading(rd: RunDir, file: Path, *, role: str = "run") -> Iterator[None]:
    """Around any read of `file` of run `rd`: what a damaged file raises (a decode error, a truncated zip or numpy
    file, a missing key) becomes a DamagedRecord. A UserError of the reader itself (it already says what to do)
    passes unchanged."""
    try:
        yield
    except UserError:
        raise
    except (
        OSError,
        ValueError,
        EOFError,
        KeyError,
        IndexError,
        TypeError,
        RuntimeError,
        AttributeError,
        yaml.YAMLError,
    ) as exc:
        detail = " ".join(str(exc).split())[:200]
        raise DamagedRecord(rd, file, f"{type(exc).__name__}{': ' + detail if detail else ''}", role=role) from None


def summary_state(rd: RunDir) -> tuple[str, str]:
    """(`done` | `missing` | `damaged`, what is wrong): a run is done only when its summary can be read."""
    if not rd.summary_file.exists():
        return MISSING, ""
    try:
        read_summary(rd)
    except DamagedRecord as exc:
        return DAMAGED, f"summary.json unreadable: {exc.problem}"
    return DONE, ""


def read_summary(rd: RunDir, *, role: str = "run") -> dict | None:
    """The run's summary.json (None when it has none: not done); DamagedRecord when it cannot be read."""
    if not rd.summary_file.exists():
        return None
    with reading(rd, rd.summary_file, role=role):
        summary = json.loads(rd.summary_file.read_text(encoding="utf-8"))
    if not isinstance(summary, dict):
        raise DamagedRecord(
            rd, rd.summary_file, f"a JSON {type(summary).__name__}, not the summary's mapping", role=role
        )
    return summary


def read_config(rd: RunDir, *, role: str = "run") -> dict:
    """The run's resolved config.yaml as a dict; DamagedRecord when it cannot be read or is not a run's config."""
    with reading(rd, rd.config_file, role=role):
        config = load_yaml(rd.config_file.read_text(encoding="utf-8"))
    if not isinstance(config, dict) or not all(isinstance(config.get(k), dict) for k in ("data", "model", "method")):
        raise DamagedRecord(
            rd, rd.config_file, "not a run's resolved config (no data / model / method sections)", role=role
        )
    return config


def read_status(rd: RunDir) -> dict | None:
    """The run's status.json, or None when it has none or it cannot be read (the status only says where a run is;
    the summary says whether it is done)."""
    try:
        status = json.loads(rd.status_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return status if isinstance(status, dict) else None


def load_checkpoint(rd: RunDir, *, role: str = "run") -> dict:
    """The run's checkpoint (weights only, on the CPU); DamagedRecord when it cannot be read or is not one."""
    import torch  # deferred: torch is heavy; the planner and `repro sweep status` read records without it

    with reading(rd, rd.checkpoint_file, role=role):
        state = torch.load(rd.checkpoint_file, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or "model" not in state:
        raise DamagedRecord(rd, rd.checkpoint_file, "not a checkpoint of this project (no 'model' entry)", role=role)
    return state


def _relative(rd: RunDir, file: Path) -> str:
    try:
        return str(Path(file).relative_to(rd.path))
    except ValueError:
        return Path(file).name
