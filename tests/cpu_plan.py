"""Test helper: a sweeps folder holding one one-column MNIST-1D Table 1 (the claim "Ours (Instance) > Baseline" in one
line, 2 runs a seed), priced by a fabricated calibration of one CPU thread, so that `repro plan --gpu CPU` and the
dry runs of its commands speak in CPU-hours without timing anything (tests/planning/). Packed, the calibration also
holds what `repro bench --device cpu --concurrency 2` stores: 2 runs side by side at SPEEDUP times one run's steps per
second, and one run's peak memory (a CPU has no device memory to fit them in).

Import it from a test module (a tests/ helper, imported by name)::

    from cpu_plan import CPU, SPEEDUP, TOTAL, one_line_sweeps
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from repro.sweep.budget.calibration import Calibration, cpu_calibration_name
from repro.sweep.budget.clock import CPU_CLOCK, WALL_CLOCK

CPU = cpu_calibration_name(1)
# Fabricated figures, large enough that every run prices in hundredths of an hour (the dry run prints 2 digits).
STEPS_MS = {"plain": 2000.0, "meta": 9000.0}
SIGNAL = [1, 1, 40, 10]  # timed at MNIST-1D's input, as `repro bench` times a 1-D network: priced without scaling
SPEEDUP = 1.6  # fabricated: 2 runs side by side do 1.6 times one run's steps per second, of either step kind
# As `repro bench --concurrency 2` stores them: per step kind {K: speed-up} (K=1 the reference), one run's peak MB.
CONCURRENCY = {"cnn1d": {kind: {"1": 1.0, "2": SPEEDUP} for kind in STEPS_MS}}
PEAK_MEMORY_MB = {"cnn1d": {"plain": 300.0, "meta": 400.0}}
# The total of a dry run's table of runs.
TOTAL = re.compile(r"^total\s+\d+\s+(?:at least )?([0-9.]+)\s*$", re.MULTILINE)
SWEEP = """
name: {name}
table: 1
metric: final_test_acc
seeds: {seeds}
common: [data=mnist1d, model=cnn1d, split=holdout, optim.epochs=4]
columns:
  MNIST-1D/CNN1D: []
rows:
  Baseline: [method=baseline]
  Ours (Instance): [method=instance_labels]
"""


def one_line_sweeps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, name: str, seeds: list[int], packed: bool = False
) -> Path:
    """Save the calibration (REPRO_CALIBRATION_DIR set to a folder of `tmp_path`) and write the sweeps folder holding
    the sweep as table1.yaml; return the folder. `packed`: with the concurrency figures, timed on the wall clock (as
    `repro bench --concurrency` times them: the CPU clock does not see runs sharing the device)."""
    monkeypatch.setenv("REPRO_CALIBRATION_DIR", str(tmp_path / "calibration"))
    packing = {"concurrency": CONCURRENCY, "peak_memory_mb": PEAK_MEMORY_MB} if packed else {}
    clock = WALL_CLOCK if packed else CPU_CLOCK
    steps, signal = {"cnn1d": STEPS_MS}, {"cnn1d": SIGNAL}
    Calibration(CPU, 128, steps, {"cnn1d": 1.0}, "fabricated", signal, clock=clock, **packing).save()
    folder = tmp_path / "sweeps"
    folder.mkdir()
    (folder / "table1.yaml").write_text(SWEEP.format(name=name, seeds=seeds))
    return folder
