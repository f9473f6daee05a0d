"""benchmarks/epoch_time.py runs end to end (the loop-overhead ratio a GPU session reports), here on digits."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("epoch_time", ROOT / "benchmarks" / "epoch_time.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_epoch_time_reports_each_methods_epoch_against_steps_plus_evaluation(capsys):
    bench = _load_benchmark()
    assert bench.main(["--methods", "baseline", "instance_labels", "--repeats", "1", "--step-repeats", "2"]) == 0
    out = capsys.readouterr().out
    rows = {line.split("|")[1].strip(): line.split("|")[1:-1] for line in out.splitlines()
            if line.startswith("| baseline") or line.startswith("| instance_labels")}
    assert set(rows) == {"baseline", "instance_labels"}
    for cells in rows.values():
        steps, step_ms, eval_s, predicted, epoch, ratio = (float(c) for c in cells[1:])
        assert steps > 0 and step_ms > 0 and epoch > 0
        assert predicted == pytest.approx(steps * step_ms / 1e3 + eval_s, rel=0.05, abs=0.02)
        assert ratio == pytest.approx(epoch / predicted, rel=0.05, abs=0.01)
