"""`repro bench --concurrency K`: the K processes start their timed steps together, after each one's warm-up
(repro/commands/bench_concurrency.py), and a process that fails stops the others waiting for it. Run in this process
with a recording barrier and a fake step timer; the real processes run in the e2e test of tests/sweep/budget."""

from __future__ import annotations

import queue
import threading

import pytest

from repro.commands import bench_concurrency, step_timing
from repro.errors import UserError
from repro.training.hardware import Hardware
from repro.training.step_cost import STEP_COSTS

PLAIN = next(kind for kind in STEP_COSTS if kind.key == "plain")
SIZES = {"batch": 8, "meta_batch": 8, "classes": 10, "steps": 4}
CPU = Hardware.from_config({"device": "cpu"})


class RecordingBarrier:
    def __init__(self, events: list[str]):
        self.events = events

    def wait(self, timeout: float | None = None) -> int:
        self.events.append("barrier")
        return 0

    def abort(self) -> None:
        self.events.append("abort")


def test_the_timed_steps_start_at_the_barrier_after_the_warm_up():
    events: list[str] = []
    assert step_timing._median_ms(lambda: events.append("step"), 4, lambda: None, ready=lambda: events.append("ready"))
    assert events == ["step"] * 3 + ["ready"] + ["step"] * 4


def test_a_side_by_side_process_meets_the_others_after_building_and_warming_up_and_times_no_evaluation():
    events: list[str] = []

    def measure(model_name, hw, *, kinds, ready, evaluate, **sizes):
        events.append("built and warmed up")
        ready()  # the timed steps begin here
        events.append(f"timed {kinds[0].key}, evaluate={evaluate}")
        return {kinds[0].key: 4.0}

    results: queue.Queue = queue.Queue()
    bench_concurrency._one("smallcnn", PLAIN, CPU, 1, measure, SIZES, RecordingBarrier(events), results)
    assert events == ["built and warmed up", "barrier", "timed plain, evaluate=False"]
    rate, peak = results.get_nowait()
    assert rate == pytest.approx(250.0) and peak > 0


def test_a_failing_process_breaks_the_barrier_so_the_others_stop_waiting():
    events: list[str] = []

    def measure(model_name, hw, **_):
        raise RuntimeError("CUDA out of memory")

    results: queue.Queue = queue.Queue()
    bench_concurrency._one("smallcnn", PLAIN, CPU, 1, measure, SIZES, RecordingBarrier(events), results)
    assert events == ["abort"] and results.get_nowait() == "RuntimeError: CUDA out of memory"


def test_a_process_released_by_the_broken_barrier_says_so_and_nothing_else():
    class BrokenBarrier(RecordingBarrier):
        def wait(self, timeout: float | None = None) -> int:
            raise threading.BrokenBarrierError

    def measure(model_name, hw, *, ready, **_):
        ready()

    results: queue.Queue = queue.Queue()
    bench_concurrency._one("smallcnn", PLAIN, CPU, 1, measure, SIZES, BrokenBarrier([]), results)
    assert results.get_nowait() == bench_concurrency.RELEASED


def test_the_failure_is_reported_before_the_broken_barrier_it_left(monkeypatch):
    class FakeProcess:
        def __init__(self, target, args):
            self.args = args

        def start(self):
            *_, results = self.args
            results.put(self.message)

        def join(self, timeout=None):
            pass

    messages = iter([bench_concurrency.RELEASED, "RuntimeError: CUDA out of memory"])

    class FakeContext:
        Barrier = staticmethod(lambda k: None)
        Queue = staticmethod(queue.Queue)

        @staticmethod
        def Process(target, args):  # noqa: N802 - multiprocessing's name
            process = FakeProcess(target, args)
            process.message = next(messages)
            return process

    monkeypatch.setattr(bench_concurrency.multiprocessing, "get_context", lambda method: FakeContext)
    with pytest.raises(UserError, match="failed in a process: RuntimeError: CUDA out of memory"):
        bench_concurrency._side_by_side("smallcnn", PLAIN, CPU, 2, lambda: None, **SIZES)
