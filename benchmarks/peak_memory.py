"""Peak resident-set growth of one step on the CPU, as the OS sees it: activations, gradients, autograd graphs and
allocator slack. A step's peak is measured after one warm-up call (optimizer state and allocator pools exist before
the measured call): malloc trimmed, the kernel's peak-RSS counter reset to the current RSS (/proc/self/clear_refs),
one more call. Each variant is measured in a fresh process (`child_peak_mib`), so one variant's pools never lower
another's figure; the child prints its figure as the last line of its output (`print_peak`). Linux only.
"""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys
from pathlib import Path
from typing import Callable


def status_kib(field: str) -> int:
    """A /proc/self/status field in KiB (VmRSS: resident now, VmHWM: the peak since the last reset)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def peak_rss_growth_mib(step: Callable[[], None], setup: Callable[[], None] | None = None) -> float:
    """MiB the resident set grows to at its peak during one call of `step`, after a warm-up call; `setup` (if any)
    runs before each call, outside the measurement."""
    baseline = 0
    for measured in (False, True):
        if setup is not None:
            setup()
        if measured:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
            baseline = status_kib("VmRSS")
            Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM (the peak RSS) to the current RSS
        step()
    return (status_kib("VmHWM") - baseline) / 1024


def print_peak(mib: float) -> None:
    """What a child prints: its figure, as the last line of its output."""
    print(json.dumps({"peak_mib": mib}))


def child_peak_mib(module: str, args: list[str], what: str) -> float | None:
    """Runs `python -m module *args` (a child that calls `print_peak`) and returns its figure, or None (said on
    stderr) when the child failed: one failed measurement leaves the rest of a report standing."""
    # the module is found as this process found it: from the working directory or PYTHONPATH
    result = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True)
    if result.returncode != 0:
        print(f"memory measurement of {what} failed:\n{result.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])["peak_mib"]
