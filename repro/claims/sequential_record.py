"""What a sweep with `--until-decided` decided of each claim line, kept in its sweep folder (sequential.json) by the
stage that adds the seeds (repro/sweep/stages/until_decided/) and read by the ledger (analysis/ledger/), so that the
ledger says at which seed count each line was decided, by which design, without judging it again."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

from repro.runs.io import atomic_write_json, read_json

RECORD_FILE = "sequential.json"


@dataclass(frozen=True)
class LineRecord:
    """One claim line's sequential state: `state` decided / undecided / training / not sequential; at `seeds` per
    cell (look `look` of `looks`); its verdict and repeated confidence interval there; why it is not sequential."""

    table: int
    claim: str
    column: str
    state: str
    seeds: int
    look: int
    looks: int
    verdict: str = ""
    low: float | None = None
    high: float | None = None
    why: str = ""
    p: float | None = None  # its repeated p-value there (repro/claims/sequential.py): what the ledger's Holm takes

    def text(self) -> str:
        """The line's sequential state in words (the ledger's column)."""
        if self.state == DECIDED:
            return f"decided sequentially at {self.seeds} seeds (look {self.look} of {self.looks}): {self.verdict}"
        if self.state == UNDECIDED:
            return f"undecided at {self.seeds} seeds, the most (look {self.looks} of {self.looks}): {self.verdict}"
        if self.state == TRAINING:
            return f"not yet decided: look {self.look} of {self.looks} waits for {self.seeds} seeds per cell"
        return f"not sequential: {self.why}"


DECIDED, UNDECIDED, TRAINING, NOT_SEQUENTIAL = "decided", "undecided", "training", "not sequential"


def write_record(folder: Path, design: str, lines: list[LineRecord]) -> None:
    """Keep the lines' states (atomically; a record that already says the same is left as it is)."""
    record = {"design": design, "lines": [asdict(line) for line in lines]}
    path = Path(folder) / RECORD_FILE
    if _read(path) != record:
        atomic_write_json(path, record)


def read_record(folder: Path) -> tuple[str, dict[tuple[int, str, str], LineRecord]]:
    """(the design in words, {(table, claim, column): its line}) of a sweep folder; ("", {}) where none is kept or
    it cannot be read (the ledger then says nothing sequential)."""
    record = _read(Path(folder) / RECORD_FILE)
    if not isinstance(record, Mapping) or not isinstance(record.get("lines"), list):
        return "", {}
    found = {}
    for raw in record["lines"]:
        try:
            line = LineRecord(**raw)
        except TypeError:
            continue
        found[(line.table, line.claim, line.column)] = line
    return str(record.get("design", "")), found


def _read(path: Path) -> Any:
    try:
        return read_json(path) if path.exists() else None
    except (OSError, ValueError):
        return None
