"""benchmarks/epoch_time.py runs end to end (the loop-overhead ratio a GPU session reports), here on digits."""

from __future__ import annotations

import pytest

from benchmarks import epoch_time
from repo_paths import REPO


@pytest.mark.slow
def test_epoch_time_reports_each_methods_epoch_against_steps_plus_evaluation(capsys):
    assert epoch_time.main(["--methods", "baseline", "instance_labels", "--repeats", "1", "--step-repeats", "2"]) == 0
    out = capsys.readouterr().out
    rows = {
        line.split("|")[1].strip(): line.split("|")[1:-1]
        for line in out.splitlines()
        if line.startswith("| baseline") or line.startswith("| instance_labels")
    }
    assert set(rows) == {"baseline", "instance_labels"}
    for cells in rows.values():
        steps, step_ms, eval_s, predicted, epoch, ratio = (float(c) for c in cells[1:])
        assert steps > 0 and step_ms > 0 and epoch > 0
        # The table prints seconds to 2 decimals: check each cell against the interval its rounded inputs allow
        # (a 0.1 s epoch printed as 0.12 / 0.13 is anywhere in 0.115 .. 0.135; the ratio is of the unrounded times).
        half = 0.005
        assert abs(predicted - (steps * step_ms / 1e3 + eval_s)) <= steps * half / 1e3 + 3 * half + 1e-9
        low, high = (epoch - half) / (predicted + half), (epoch + half) / max(predicted - half, 1e-9)
        assert low - 0.0005 <= ratio <= high + 0.0005


@pytest.mark.slow
@pytest.mark.e2e
def test_gpu_report_runs_the_named_parts_and_refuses_unknown_ones(tmp_path):
    """The one-command GPU check: each part's log and exit status land in OUTDIR (here doctor fails: no GPU)."""
    import os
    import subprocess
    import sys

    import torch

    script = REPO / "benchmarks" / "gpu_report.sh"
    env = {**os.environ, "PYTHON": sys.executable}
    done = subprocess.run(
        [str(script), str(tmp_path / "out"), "doctor"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    summary = (tmp_path / "out" / "summary.txt").read_text()
    expected = 0 if torch.cuda.is_available() else 1  # --require-gpu
    assert f"doctor: exit {expected} in" in summary and f"torch {torch.__version__}" in summary
    assert "torchvision" in (tmp_path / "out" / "doctor.log").read_text()
    bad = subprocess.run(
        [str(script), str(tmp_path / "refused"), "doctor", "nonsense"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert bad.returncode == 2 and "unknown part 'nonsense'" in bad.stderr
    assert not (tmp_path / "refused").exists()  # refused before any part ran or anything was written
