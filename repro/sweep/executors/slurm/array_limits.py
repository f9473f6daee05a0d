"""What a SLURM cluster allows one job array, read from the cluster itself, and arrays cut to fit.

A table is up to ~1,300 runs and many clusters keep SLURM's default MaxArraySize of 1001 (an array's task indices
run 0..MaxArraySize-1): one sbatch of the whole table would be refused. `max_array_size()` reads the limit from
`scontrol show config`; `array_chunks` cuts a list of runs into arrays that fit. A later chunk starts after the
previous one has ended (`afterany`), so the profile's `array_parallelism` (`%N`, applied by submitit to each array)
still bounds how many of the table's runs hold the partition at once.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import cache
from typing import Sequence, TypeVar

T = TypeVar("T")
SCONTROL_TIMEOUT_S = 30


def max_array_size() -> int | None:
    """The cluster's MaxArraySize, or None when scontrol is missing, does not answer or does not say (asked once
    per process and cluster configuration)."""
    return _ask_scontrol(os.environ.get("SLURM_CONF"))


@cache
def _ask_scontrol(slurm_conf: str | None) -> int | None:
    scontrol = shutil.which("scontrol")
    if scontrol is None:
        return None
    try:
        out = subprocess.run(
            [scontrol, "show", "config"], capture_output=True, text=True, timeout=SCONTROL_TIMEOUT_S, check=True
        ).stdout
    except (subprocess.SubprocessError, OSError):
        return None
    return parse_max_array_size(out)


def parse_max_array_size(config_text: str) -> int | None:
    found = re.search(r"^\s*MaxArraySize\s*=\s*(\d+)", config_text, re.MULTILINE)
    return int(found.group(1)) if found else None


def array_chunks(runs: Sequence[T], limit: int | None) -> list[list[T]]:
    """`runs` in order, cut into arrays of at most `limit` tasks (indices 0..limit-1); one array when no limit."""
    if not runs:
        return []
    if limit is None or limit < 1 or len(runs) <= limit:
        return [list(runs)]
    return [list(runs[i : i + limit]) for i in range(0, len(runs), limit)]
