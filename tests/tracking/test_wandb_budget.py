"""W&B never costs a run more than its budget (`tracker.timeouts.total`): against a stand-in W&B server that stops
answering after the run's start, during its end-of-run artifacts or at its finish, `repro train ...
tracker.mode=online` exits 0, its wait on W&B (the run's own record, `seconds_waited` in wandb_status.json) within its
budget plus the service's stop, switches to offline at the first call that timed out, leaves no W&B service process
behind, says the truth in wandb_status.json, and `repro wandb sync` sends the rest once the server answers again (a
second sync sends nothing).

The process's wall time is no measure of the budget: on a loaded machine its start alone (imports, data) took 28 s,
and the run is timed only by a hang guard (`HANG_GUARD`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from repro.runs.rundir import RunDir
from repro.tracking.wandb_bounds import Budget, WandbBounds
from repro.tracking.wandb_service import end_services, service_pids
from repro.tracking.wandb_session import WandbSession
from repro.tracking.wandb_status import SILENT, WandbStatus, plain_cause
from testing_support.wandb_endpoint import FAKE_API_KEY, wandb_services_of, wandb_standin

BUDGET = 50
# Each call's own bounds are far above the budget, so only the budget can end the run in time: without it the first
# silent call alone would wait 150 s (the finish 300 s). W&B's own request timeout too: at its default 20 s, under the
# online share, a silent artifact upload returned on it without failing once the start had taken 10 s (a loaded
# machine), and the run went offline at its finish instead, so which call went offline hung on the machine's speed.
# The budget leaves the online calls 30 s (20 s are held back for the offline rest), far above W&B's start on a loaded
# machine (10-20 s): with 8 s the start itself timed out there, and the run went offline before it reached the point
# where the server goes silent.
BOUNDS = {"total": BUDGET, "call": 150, "finish": 300, "init": 150, "request": 150}
# What the run may wait past its budget, by design: stopping W&B's service once the budget is spent is not cut by it
# (W&B's teardown of an ended service, at most 5 s, and the service's end by pid, SIGTERM then SIGKILL after 2 s).
MARGIN = 10
# A hang guard only, far above a run's time on a loaded machine (116 s at load 8-13, 28 s of it the process's start):
# it turns a hang into a failure and measures nothing.
HANG_GUARD = 600
TINY = ["optim.epochs=2", "data.subset=100", "data.test_subset=100", "progress=none"]
END_OF_RUN_CALLS = {"summary", "charts", "figures", "input artifacts", "label artifact", "model artifact"}


def _train(server, tmp_path: Path) -> tuple[subprocess.CompletedProcess, int]:
    """`repro train` online against the stand-in: (its result, its pid)."""
    overrides = [
        *TINY,
        "tracker=wandb",
        "tracker.mode=online",
        "tracker.entity=standin",
        *(f"tracker.timeouts.{k}={v}" for k, v in BOUNDS.items()),
        f"output_root={tmp_path / 'out'}",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "repro.cli", "train", *overrides],
        env=_env(server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=HANG_GUARD)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"`repro train` hung: still running after {HANG_GUARD} s\n{err[-3000:]}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), proc.pid


def _env(server) -> dict[str, str]:
    env = {**os.environ, "WANDB_BASE_URL": server.url, "WANDB_API_KEY": FAKE_API_KEY}
    for var in ("WANDB_MODE", "WANDB_SERVICE"):
        env.pop(var, None)
    return env


def _sync(server, root: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "repro.cli", "wandb", "sync", str(root), "--backoff", "0"]
    return subprocess.run(command, env=_env(server), capture_output=True, text=True, timeout=HANG_GUARD)


@pytest.mark.slow
# The first tier keeps one point where the server goes silent (the start: a server lost mid-run); the two others,
# each a `repro train` process waiting out the budget (about 50 s of wall time and 20 CPU-s), are end-to-end checks.
@pytest.mark.parametrize(
    "silent_from",
    ["start", pytest.param("artifacts", marks=pytest.mark.e2e), pytest.param("finish", marks=pytest.mark.e2e)],
)
def test_a_server_that_stops_answering_costs_a_run_only_its_budget(tmp_path, silent_from):
    with wandb_standin(silent_from=silent_from) as server:
        done, pid = _train(server, tmp_path)
        assert server.silent.is_set()  # the run reached the point where the server went silent
        assert not wandb_services_of(pid)  # no W&B service outlives the run (found by the run's pid)
        assert done.returncode == 0, done.stderr[-3000:]
        (run_path,) = (tmp_path / "out" / "runs").iterdir()
        rd = RunDir(run_path)
        summary = rd.read_summary()
        assert rd.is_done() and len(rd.read_metrics()) == 2 and summary["final_test_acc"] >= 0

        status = json.loads((run_path / "wandb_status.json").read_text())
        assert status["requested"] == "online" and status["logged_to"] == "offline" and status["complete"] is False
        # the budget's promise, by the run's own clock around each W&B call (every call counted, the stops too)
        assert status["budget"] == BUDGET and status["seconds_waited"] <= BUDGET + MARGIN, status["calls"]
        assert status["seconds_waited"] == pytest.approx(sum(c["seconds"] for c in status["calls"].values()), abs=0.05)
        first = status["timed_out"][0]["call"]
        assert status["went_offline_after"] == first
        assert first == "finish" if silent_from == "finish" else first in END_OF_RUN_CALLS, (status, done.stderr)
        assert status["cause"] == SILENT and status["problems"][0]["call"] == first
        assert not any("credentials" in p["cause"] for p in status["problems"])
        assert not [p for p in status["problems"] if p["call"] == "service stop"]  # no call left blocked, no service
        (unsent,) = status["unsent"]["folders"]
        assert unsent.startswith("offline-run-") and (run_path / "wandb" / unsent).is_dir()

        server.answer_again()
        server.silent_from = None
        synced = _sync(server, tmp_path / "out")
        assert synced.returncode == 0 and "synced 1 (now)" in synced.stdout, synced.stdout + synced.stderr
        (got,) = [server.runs[k] for k in server.runs if k.startswith(rd.run_id)]
        assert {row.get("epoch") for row in got.history.values()} >= {1, 2}
        assert got.summary["summary/final_test_acc"] == pytest.approx(summary["final_test_acc"])
        assert any(name.startswith("model-") for name in got.artifacts) and got.exitcode == 0
        before = server.requests
        again = _sync(server, tmp_path / "out")
        assert again.returncode == 0 and "synced 0 (now) + 1 (before)" in again.stdout
        assert server.requests == before  # the second sync sends nothing


def test_the_budget_caps_each_deadline_and_keeps_a_reserve_for_the_offline_rest():
    budget = Budget(8)
    assert budget.deadline(60, online=True) == 4 and budget.deadline(60, online=False) == 8
    budget.spend(3)
    assert budget.deadline(60, online=True) == 1 and budget.deadline(2, online=False) == 2
    budget.spend(10)
    assert budget.left(online=False) == 0
    assert Budget(90).reserve == 20


def test_a_timeout_is_named_as_the_server_not_answering_not_as_refused_credentials():
    words = "AuthenticationError: Failed to verify credentials with http://127.0.0.1:1: context deadline exceeded"
    assert plain_cause(words) == SILENT
    assert plain_cause("AuthenticationError: Failed to verify credentials", after_timeout=True) == SILENT
    assert "refused the credentials" in plain_cause("AuthenticationError: 401 Unauthorized: invalid API key")
    assert "throttled" in plain_cause("HTTP 429 Too Many Requests")
    assert plain_cause(TimeoutError("W&B charts did not return within 4 s")) == SILENT
    assert "budget" in plain_cause(TimeoutError("W&B log not made: the run's W&B budget is spent (8 s)"))


def test_services_started_by_this_process_are_found_and_ended_by_pid(tmp_path):
    """A stand-in `wandb-core` (this Python under that name, started with `--pid <this process>` as W&B starts its
    service)."""
    fake = tmp_path / "wandb-core"
    fake.symlink_to(sys.executable)
    sleep = [str(fake), "-c", "import time; time.sleep(1200)", "--pid"]
    other = subprocess.Popen([*sleep, "1"])  # another process's service: never ours to end
    ours = subprocess.Popen([*sleep, str(os.getpid())])
    try:
        deadline = time.monotonic() + 600  # a hang guard only: the loop ends once it has started
        while ours.pid not in (found := service_pids()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ours.pid in found and other.pid not in found
        assert end_services({ours.pid}) == set()
        assert ours.poll() is not None and other.poll() is None and ours.pid not in service_pids()
    finally:
        for proc in (other, ours):
            proc.kill()
            proc.wait()


def test_a_run_starts_a_service_of_its_own_whatever_service_it_inherited(tmp_path, monkeypatch):
    """W&B joins the service WANDB_SERVICE names (a parent's: a notebook, a test process) instead of starting one; a
    run never does (tests/tracking/test_wandb_resume.py: in a shared service a killed run's resume logged offline)."""
    monkeypatch.setenv("WANDB_SERVICE", "3-1-unix-/tmp/a-parents-wandb-service/socket")
    seen_at_setup = []

    class StartOnly:  # what a run's start uses of the wandb module
        Settings = dict

        def setup(self, settings: dict) -> None:
            seen_at_setup.append(os.environ.get("WANDB_SERVICE"))

        def init(self, mode: str, **args) -> SimpleNamespace:
            return SimpleNamespace(settings=SimpleNamespace(sync_dir=str(tmp_path / "offline-run-x")))

    status = WandbStatus(tmp_path, requested="offline")
    session = WandbSession(
        StartOnly(), init_args={}, mode="offline", bounds=WandbBounds(), status=status, on_new_run=lambda run: None
    )
    session.start()
    assert seen_at_setup == [None]


def test_w_and_bs_exit_with_the_code_its_ended_service_gave_leaves_the_run_going_offline(tmp_path):
    """W&B's teardown calls `sys.exit(code)` when the service it stops ended non-zero, as the one this run ends by pid
    once a call timed out online. Whether it does hung on the machine's speed (whether the killed service was gone
    before the teardown wrote to it); when it did, that exit ended the run's process with code 128. The run goes on
    offline, makes its calls again there and finishes."""
    made: dict[str, list[str]] = {}

    def fake_run(mode: str) -> SimpleNamespace:
        def log(row: dict, step: int | None = None) -> None:
            if mode == "online":  # W&B's words when its service does not answer a request in time
                raise RuntimeError("Failed to execute API request: the service process is busy and did not respond")
            made[mode].append(f"log {sorted(row)}")

        made[mode] = []
        sync_dir = SimpleNamespace(sync_dir=str(tmp_path / f"{mode}-run-x"))
        return SimpleNamespace(settings=sync_dir, log=log, finish=lambda code: made[mode].append(f"finish {code}"))

    class ItsServiceEndedNonZero:  # what a run uses of the wandb module
        Settings = dict

        def setup(self, settings: dict) -> None:
            pass

        def init(self, mode: str, **args) -> SimpleNamespace:
            return fake_run(mode)

        def teardown(self, exit_code: int | None = None) -> None:
            if "offline" not in made:  # the online run's service, ended by pid (the offline one's ends with 0)
                sys.exit(128)  # W&B: `if internal_exit_code not in (None, 0): sys.exit(internal_exit_code)`

    status = WandbStatus(tmp_path, requested="online")
    session = WandbSession(
        ItsServiceEndedNonZero(),
        init_args={"dir": str(tmp_path)},
        mode="online",
        bounds=WandbBounds(),
        status=status,
        on_new_run=lambda run: None,
    )
    session.start()
    with pytest.warns(UserWarning, match="W&B online failed at charts"):
        session.log("charts", lambda: {"charts/x": 1}, None)
    assert session.finish(exit_code=0) is False  # not all of it online
    assert made["offline"] == ["log ['charts/x']", "finish 0"]
    assert status.record["logged_to"] == "offline" and status.record["went_offline_after"] == "charts"
    assert [p["call"] for p in status.record["problems"]] == ["charts"]  # the exits of the ended service: expected


@pytest.mark.slow
def test_a_service_that_w_and_bs_teardown_leaves_running_is_ended_by_pid(tmp_path, monkeypatch):
    """W&B's teardown may return with its service still running (busy retrying, or a connection that does not own
    it): the run ends the services it started by pid, so none outlives it."""
    import wandb

    from repro.config import load_config
    from repro.train import train

    real_teardown = wandb.teardown
    real_teardown()  # a fresh service, as in a job
    before = service_pids()
    monkeypatch.setattr(wandb, "teardown", lambda *a, **k: None)  # returns, the service still running
    try:
        result = train(load_config([*TINY, "tracker=wandb", f"output_root={tmp_path}"]))
        assert service_pids() <= before  # the run's own service ended by pid
        status = json.loads((result.run_dir.path / "wandb_status.json").read_text())
        assert status["complete"] is True and not status["problems"] and "service stop" in status["calls"]
    finally:
        monkeypatch.undo()
        try:
            real_teardown()  # W&B's state of the ended service, reset for the tests after this one
        except Exception:
            pass
