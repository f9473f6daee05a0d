"""`repro bench --clock`: the clock every timing is read on is the one asked for, passed down to the step and epoch
timers, recorded in the stored calibration and said where its source is printed; what it cannot time is refused."""

from __future__ import annotations

import json
import time

import pytest
import torch

from repro.cli import main
from repro.commands import bench, step_timing
from repro.commands.bench_epoch import EpochCost
from repro.sweep.budget.calibration import Calibration, calibration_file, load_calibration
from repro.sweep.budget.clock import CPU_CLOCK, WALL_CLOCK, Clock
from repro.training.step_cost import STEP_COSTS


@pytest.fixture(autouse=True)
def _calibration_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_CALIBRATION_DIR", str(tmp_path / "calibration"))


def _ticking_clock() -> Clock:
    """A clock that moves one second each time it is read, whatever the work between two readings."""
    readings = iter(range(10**6))
    return Clock("ticking", "timed by the test", lambda: float(next(readings)))


def test_a_step_is_timed_on_the_clock_it_is_given():
    assert step_timing._median_ms(lambda: None, 5, lambda: None, _ticking_clock()) == pytest.approx(1000.0)


def test_clock_cpu_times_every_step_and_epoch_on_the_process_cpu_time_and_records_it(monkeypatch, capsys):
    given: list[tuple[str, Clock]] = []

    def measure(model_name, hw, *, kinds=STEP_COSTS, clock, **sizes):
        given.append(("steps", clock))
        return {**{k.key: 2.0 for k in kinds}, "eval_per_image": 0.01}

    def epoch_costs(model_name, kind, hw, *, clock, **sizes):
        given.append(("epochs", clock))
        return EpochCost(1.25, 100.0, sizes["batch"], sizes["meta_batch"] if kind.meta_batch else None)

    monkeypatch.setattr(bench, "measure", measure)  # the timers themselves: the test above, and the slow tests
    monkeypatch.setattr(bench, "epoch_costs", epoch_costs)
    assert main(["bench", "--device", "cpu", "--models", "smallcnn", "--clock", "cpu"]) == 0
    assert {what for what, _ in given} == {"steps", "epochs"}
    assert all(clock is CPU_CLOCK for _, clock in given) and CPU_CLOCK.read is time.process_time
    cal = load_calibration()
    assert cal.clock is CPU_CLOCK and cal.provenance.endswith(", timed on the process's CPU time")


def test_a_calibration_stored_without_its_clock_reads_as_timed_on_the_wall_clock():
    cal = Calibration("Old GPU", 128, {"resnet18": {"plain": 10.0}}, {"resnet18": 0.01}, "measured", clock=CPU_CLOCK)
    stored = json.loads(cal.save().read_text())
    del stored["clock"]
    calibration_file("Old GPU").write_text(json.dumps(stored))
    cal = load_calibration("Old GPU")
    assert cal.clock is WALL_CLOCK and cal.provenance == "measured, timed on the wall clock"


def test_an_unknown_clock_is_refused_by_the_command_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["bench", "--clock", "sundial"])
    assert exit_.value.code == 2 and "invalid choice: 'sundial'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "threads", "why"),
    [(["--concurrency", "2"], 1, "runs side by side"), ([], 2, "all 2 torch threads")],
)
def test_the_cpu_clock_is_refused_where_it_cannot_time_the_runs_cost(extra, threads, why, capsys):
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        assert main(["bench", "--device", "cpu", "--models", "smallcnn", "--clock", "cpu", *extra]) == 2
    finally:
        torch.set_num_threads(before)
    assert why in capsys.readouterr().err
    assert not calibration_file("cpu-1t").exists() and not calibration_file("cpu-2t").exists()
