"""The clock `repro bench` times its steps and epochs on, recorded in the calibration it stores
(repro/sweep/budget/calibration.py) so that the prices made from it say what their seconds are.

The wall clock (the default) is what a run's hours are counted in, but on a machine shared with other jobs it moves
with their load: a step timed at a load of 9 came out about twice as dear as at rest. The process's CPU time does not
count the time the process waits for a core, so a CPU calibrated on it is priced as if it were this process's alone;
it counts the seconds of every thread of the process, and none of a GPU's work, so it is for a CPU timed with one
thread (`repro bench --device cpu --clock cpu`, with OMP_NUM_THREADS=1).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Clock:
    """One clock. `key`: its name on the command line (`--clock`) and in a calibration file; `described`: what its
    seconds are, as the estimates print it; `read`: its seconds now (only differences of two readings mean
    anything); `this_process_only`: it counts this process's own work on the CPU, every thread's seconds added (no
    GPU's work, no wait for a core another process holds)."""

    key: str
    described: str
    read: Callable[[], float]
    this_process_only: bool = False

    def __str__(self) -> str:
        return self.key


WALL_CLOCK = Clock("wall", "timed on the wall clock", time.perf_counter)
CPU_CLOCK = Clock("cpu", "timed on the process's CPU time", time.process_time, this_process_only=True)
CLOCKS = (WALL_CLOCK, CPU_CLOCK)


def clock_named(key: str) -> Clock:
    """The clock called `key` (a calibration file's "clock"; files stored before it was recorded were timed on the
    wall clock, which their readers pass for a missing key). ValueError for another name: a file the reader says
    cannot be read (`--clock` offers only these)."""
    for clock in CLOCKS:
        if clock.key == key:
            return clock
    raise ValueError(f"unknown clock {key!r}, not one of {', '.join(c.key for c in CLOCKS)}")
