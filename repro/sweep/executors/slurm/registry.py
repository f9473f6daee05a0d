"""Which SLURM job runs which run: `<output_root>/sweeps/<name>/jobs.json`, written atomically after every sbatch.

It is what stops a re-run of `repro sweep` from submitting a second copy of a run that is queued or running: before
submitting, the latest job of every unfinished run is looked up in SLURM (cluster.py). Every sweep of an output root
is consulted, since tables share runs (Table 2's baseline is Table 1's).
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from repro.errors import UserError
from repro.runs.io import atomic_write_json
from repro.runs.runlock import FileLock, describe

VERSION = 1


@dataclass(frozen=True)
class JobRecord:
    """One submission of one run."""

    run_id: str
    job_id: str
    stage: str
    submitted: float = field(default_factory=time.time)
    stdout: str = ""
    stderr: str = ""
    after: tuple[str, ...] = ()  # job ids it waits for (afterok)


class Registry:
    """The job registry of one sweep: run id -> its submissions, oldest first."""

    def __init__(self, path: Path, runs: dict[str, list[JobRecord]] | None = None) -> None:
        self.path = path
        self.runs: dict[str, list[JobRecord]] = runs or {}

    @classmethod
    def load(cls, path: str | Path) -> Registry:
        path = Path(path)
        if not path.exists():
            return cls(path)
        try:
            raw = json.loads(path.read_text())
            runs = {
                rid: [JobRecord(**{**r, "after": tuple(r.get("after", ()))}) for r in records]
                for rid, records in raw["runs"].items()
            }
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(
                f"The job registry {path} cannot be read ({exc}). It is written atomically, so it was edited by "
                "hand or by another tool. Restore it, or move it aside after checking `squeue --me` for jobs of "
                "this sweep still queued (without it, such runs could be submitted a second time)."
            ) from None
        return cls(path, runs)

    def add(self, record: JobRecord) -> None:
        self.runs.setdefault(record.run_id, []).append(record)

    def save(self) -> None:
        atomic_write_json(
            self.path,
            {
                "version": VERSION,
                "runs": {
                    rid: [{**asdict(r), "after": list(r.after)} for r in records]
                    for rid, records in sorted(self.runs.items())
                },
            },
        )

    def latest(self, run_id: str) -> JobRecord | None:
        records = self.runs.get(run_id)
        return records[-1] if records else None


def latest_jobs(output_root: str | Path) -> dict[str, JobRecord]:
    """The latest submission of every run, over every sweep's registry in this output root."""
    latest: dict[str, JobRecord] = {}
    for path in sorted(Path(output_root).glob("sweeps/*/jobs.json")):
        for rid, records in Registry.load(path).runs.items():
            last = records[-1]
            if rid not in latest or last.submitted >= latest[rid].submitted:
                latest[rid] = last
    return latest


@contextmanager
def sweep_lock(
    output_root: str | Path, *, report: Callable[[str], None] = print, wait: float | bool = True
) -> Iterator[bool]:
    """One `repro sweep` at a time per output root: planning, reading and updating the job registries never
    interleave (tables share runs, so two different sweep files must not race either). The lock holds on NFS and
    Lustre (repro/runs/runlock.py). A second command waits for the first (saying who holds it) and yields True when
    it had to wait, so the caller can re-read what the first one submitted."""
    waited: list[dict] = []

    def on_wait(holder: dict) -> None:
        waited.append(holder)
        report(
            f"another `repro sweep` is planning or running in {output_root} ({describe(holder)}); waiting for "
            "it to finish"
        )

    lock = FileLock(
        Path(output_root) / "sweeps" / "submit.lock",
        what=f"the sweeps of {output_root}",
        hint="Another `repro sweep` is working on this output root. ",
    )
    with lock.acquire(wait, on_wait=on_wait):
        yield bool(waited)


def report_new_jobs(before: dict[str, JobRecord], after: dict[str, JobRecord], report: Callable[[str], None]) -> None:
    """Say what another `repro sweep` submitted while this one waited for the lock."""
    new = {rid: rec for rid, rec in after.items() if rid not in before or before[rid].job_id != rec.job_id}
    if not new:
        report("the other `repro sweep` submitted nothing new")
        return
    report(f"the other `repro sweep` submitted {len(new)} run(s); they are not submitted again:")
    for rid, rec in sorted(new.items()):
        report(f"  {rid}: job {rec.job_id} ({rec.stage})")
