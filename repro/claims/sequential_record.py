"""What a sweep with `--until-decided` decided of each claim line, kept in its sweep folder (sequential.json) by the
stage that adds the seeds (repro/sweep/stages/until_decided/) and read by the ledger (analysis/ledger/), so that the
ledger gives each such line the design's verdict and repeated p, and says at which seed count and look it was
decided, by which design, without judging it again."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

from repro.claims.verdicts import NOT_YET_DECIDED, Verdict, verdict_named
from repro.runs.io import atomic_write_json, read_json

RECORD_FILE = "sequential.json"
DESIGN_FIELDS = "design_fields"  # the record's key for the design's fields (`SequentialDesign.fields`)


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
    guarded: bool = False  # its boundaries the collapse guard's (a method of the line declares its seeds may collapse)

    def text(self) -> str:
        """The line's sequential state in words (the ledger's column, the stage's table after each look)."""
        guarded = "; boundaries held where seeds collapse" if self.guarded else ""
        if self.state == DECIDED:
            look = f"look {self.look} of {self.looks}{guarded}"
            return f"decided sequentially at {self.seeds} seeds ({look}): {self.verdict}"
        if self.state == UNDECIDED:
            look = f"look {self.looks} of {self.looks}{guarded}"
            return f"undecided at {self.seeds} seeds, the most ({look}): {self.verdict}"
        if self.state == TRAINING:
            return f"not yet decided: look {self.look} of {self.looks} waits for {self.seeds} seeds per cell{guarded}"
        return f"not sequential: {self.why}"

    @property
    def sequential(self) -> bool:
        """Whether the design judges the line (its seeds are added until decided), not the fixed-sample interval."""
        return self.state != NOT_SEQUENTIAL

    def design_verdict(self) -> Verdict | None:
        """The line's verdict, as the design gave it: its decision at the look that stopped it, or at the last look
        where none did (inconclusive, not shown equivalent), or not yet decided while a look waits for its seeds;
        None where the line is not sequential (its fixed-sample interval judges it)."""
        if self.state in (DECIDED, UNDECIDED):
            return verdict_named(self.verdict)
        return NOT_YET_DECIDED if self.state == TRAINING else None

    def design_p(self) -> float | None:
        """The line's p-value for Holm's correction, as the design gave it: the repeated p at its look (NaN while a
        look waits: the line is not yet tested); None where it is not sequential."""
        if self.state in (DECIDED, UNDECIDED):
            return math.nan if self.p is None else self.p
        return math.nan if self.state == TRAINING else None

    def note(self) -> str:
        """Where the line's verdict comes from, said beside it in the ledger."""
        known = self.low is not None and self.high is not None
        interval = f"; its repeated interval [{self.low:+.2f}, {self.high:+.2f}]" if known else ""
        interval += "; boundaries held where seeds collapse" if self.guarded else ""
        if self.state == DECIDED:
            return f"decided at {self.seeds} seeds (look {self.look} of {self.looks}{interval})"
        if self.state == UNDECIDED:
            return f"undecided at {self.seeds} seeds, the most (look {self.looks} of {self.looks}{interval})"
        if self.state == TRAINING:
            return f"seeds added until decided: look {self.look} of {self.looks} waits for {self.seeds} seeds per cell"
        return f"not sequential: {self.why}"


DECIDED, UNDECIDED, TRAINING, NOT_SEQUENTIAL = "decided", "undecided", "training", "not sequential"


def write_record(folder: Path, design: str, lines: list[LineRecord], fields: Mapping[str, Any] | None = None) -> None:
    """Keep the lines' states and the design they were walked by, in words (`design`, for the ledger) and as its
    fields (`fields`: what a resumed sweep compares, `SequentialDesign.fields`), atomically; a record that already
    says the same is left as it is."""
    record: dict[str, Any] = {"design": design, "lines": [asdict(line) for line in lines]}
    if fields is not None:
        record[DESIGN_FIELDS] = dict(fields)
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


def read_design(folder: Path) -> tuple[str, dict[str, Any] | None]:
    """(the design in words, its recorded fields) of a sweep folder's record: ("", None) where none is kept or it
    cannot be read; fields None in a record kept before designs were recorded by their fields (its words remain)."""
    record = _read(Path(folder) / RECORD_FILE)
    if not isinstance(record, Mapping):
        return "", None
    fields = record.get(DESIGN_FIELDS)
    return str(record.get("design", "")), dict(fields) if isinstance(fields, Mapping) else None


def _read(path: Path) -> Any:
    try:
        return read_json(path) if path.exists() else None
    except (OSError, ValueError):
        return None
