"""A run that is another finished run's very training takes that run's records instead of training again.

A tuned cell whose tuning runs train on the cell's own split (`where: []`) with its own seeds and epochs: once the
winner is known, the reported run of a tuning seed is the winning point's tuning run of that seed, the same config,
seed and split (repro/sweep/stages/tune/tuning.py, `same_training`). Training it again would spend the run's whole
price for the same numbers. `adopt` gives the run directory the source's records instead: every file but its lock, log
and summary is hard-linked (copied where the file system cannot link), the run's own config is written, and the
summary comes last (a summary means done: a process killed midway leaves a run that adopts again).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Mapping

from repro.runs.rundir import RunDir

# What the adopting run writes itself: its lock and log are its own, its config names its own tuning, and the
# summary is written last.
OWN_FILES = frozenset({"writer.lock", "train.log", "summary.json", "config.yaml"})


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link (no second copy of a checkpoint), else a copy; the target is replaced atomically."""
    temp = target.with_name(f".{target.name}.adopt.tmp")
    temp.unlink(missing_ok=True)
    try:
        os.link(source, temp)
    except OSError:  # another file system, or links not allowed
        shutil.copy2(source, temp)
    os.replace(temp, target)


def adopt(rd: RunDir, source: RunDir, config: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """Give `rd` the records of `source` (a done run of the same training), its own `config`, and a summary that is
    the source's plus `fields` and where it came from. The caller holds `rd`'s lock. Returns the summary."""
    summary = source.read_summary()
    assert summary is not None, f"{source.run_id} is not done"
    for path in sorted(source.path.rglob("*")):
        relative = path.relative_to(source.path)
        if path.is_dir() or str(relative) in OWN_FILES or path.name.endswith(".tmp"):
            continue
        target = rd.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        _link_or_copy(path, target)
    rd.write_config(config)
    rd.log(f"the same training as the finished run {source.run_id}: took its records, trained nothing")
    out = {**summary, **fields, "same_training_as": source.run_id}
    rd.write_summary(out)
    return out
