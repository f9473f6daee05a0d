"""W&B can only cost a run seconds: against a server that throttles (429), fails (500), drops the connection or
never answers, `repro train ... tracker.mode=online` exits 0 with a complete run directory within its
`tracker.timeouts`, logs to W&B offline instead, and records in wandb_status.json what W&B did not get."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import subprocess
import sys
import time

import pytest

from repro.runs.rundir import RunDir
from repro.tracking.wandb_bounds import (
    HTTP_TIMEOUT_VARIABLE,
    PUBLIC_API_MODULE,
    WandbBounds,
    WandbExited,
    WandbTimeout,
    bound_public_api,
    call_within,
)
from testing_support.wandb_endpoint import FAKE_API_KEY, MODES, misbehaving_wandb, parent_wandb_service

# small bounds, so each case ends in seconds; the defaults are in repro/conf/tracker/wandb.yaml
BOUNDS = {"init": 4, "finish": 4, "call": 10, "teardown": 5, "service_wait": 60, "request": 1, "retry_wait_max": 0.5}
TINY = ["optim.epochs=1", "data.subset=100", "data.test_subset=100", "progress=none"]


@pytest.mark.slow
# The first tier keeps one fault (500, started from a process holding a W&B service of its own); the other three,
# each a `repro train` process against the stand-in (about 20 s of wall time), are end-to-end checks.
@pytest.mark.parametrize("mode", [m if m == "500" else pytest.param(m, marks=pytest.mark.e2e) for m in MODES])
def test_a_misbehaving_wandb_server_costs_a_run_only_its_bounds(tmp_path, mode):
    bounds = WandbBounds(**BOUNDS, retries=1)
    overrides = [
        *TINY,
        "tracker=wandb",
        "tracker.mode=online",
        "tracker.retries=1",
        *(f"tracker.timeouts.{k}={v}" for k, v in BOUNDS.items()),
        f"output_root={tmp_path / 'out'}",
    ]
    # A process started by one that uses W&B (a notebook) inherits its service (WANDB_SERVICE): the [500] case runs
    # so, and the run starts a service of its own all the same; the others inherit none.
    parent = parent_wandb_service(tmp_path) if mode == "500" else contextlib.nullcontext(None)
    with misbehaving_wandb(mode) as server, parent as service:
        env = {**os.environ, "WANDB_BASE_URL": server.url, "WANDB_API_KEY": FAKE_API_KEY}
        env.pop("WANDB_MODE", None)
        env.pop("WANDB_SERVICE", None)
        env.update({"WANDB_SERVICE": service} if service else {})
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "repro.cli", "train", *overrides],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,  # a hang guard only: W&B's own defaults alone would take 90 s to give up
        )
        elapsed = time.monotonic() - started
        assert server.requests > 0  # W&B really talked to it
    assert done.returncode == 0, done.stderr[-2000:]
    (run_path,) = (tmp_path / "out" / "runs").iterdir()
    rd = RunDir(run_path)
    assert rd.is_done() and rd.read_summary()["final_test_acc"] >= 0 and len(rd.read_metrics()) == 1
    status = json.loads((run_path / "wandb_status.json").read_text())
    assert status["requested"] == "online" and status["logged_to"] == "offline" and status["complete"] is False
    assert status["problems"][0]["call"] == "init"
    # what the run waited on W&B, every call counted: within its budget (and the seconds it takes to end a service)
    assert status["seconds_waited"] <= bounds.total + 10
    assert elapsed >= status["seconds_waited"]
    assert list((run_path / "wandb").glob("offline-run-*/*.wandb"))  # the copy `repro wandb sync` uploads


def test_a_call_past_its_deadline_is_left_behind(tmp_path):
    import threading

    release = threading.Event()
    with pytest.raises(WandbTimeout, match="slow call did not return within 0.2 s"):
        call_within(0.2, lambda: release.wait(30), what="slow call")
    release.set()
    assert call_within(5, lambda: 7, what="quick") == 7
    with pytest.raises(ValueError):
        call_within(5, lambda: int("x"), what="failing")
    with pytest.raises(WandbExited, match="teardown exited with its service's exit code 128"):
        call_within(5, lambda: sys.exit(128), what="teardown")  # W&B's teardown after its service ended non-zero


@pytest.mark.slow
def test_a_hanging_finish_is_cut_at_its_bound_and_recorded(tmp_path, monkeypatch):
    import threading

    import wandb.sdk.wandb_run as sdk_run

    from repro.config import load_config
    from repro.train import train

    release = threading.Event()
    monkeypatch.setattr(sdk_run.Run, "finish", lambda self, *a, **k: release.wait(60))
    config = load_config(
        [
            *TINY,
            "tracker=wandb",
            "tracker.timeouts.finish=0.5",
            "tracker.timeouts.teardown=5",
            f"output_root={tmp_path}",
        ]
    )
    with pytest.warns(UserWarning, match="W&B finish failed"):
        result = train(config)
    release.set()
    status = json.loads((result.run_dir.path / "wandb_status.json").read_text())
    assert result.run_dir.is_done() and status["complete"] is False
    assert [p["call"] for p in status["problems"]][:1] == ["finish"]
    assert status["problems"][0]["seconds"] < 60


@pytest.mark.slow
def test_the_service_wait_and_the_request_bound_reach_where_wandb_reads_them(tmp_path, monkeypatch):
    """W&B starts its service process from its global settings, not from wandb.init's: the service wait must land
    there. Its public API client reads its request timeout from the environment: the run's request bound lands
    there (a neighbour test checks the client takes it)."""
    import wandb
    from wandb.sdk.lib.service import service_connection

    from repro.config import load_config
    from repro.train import train

    started_with = []
    connect = service_connection.connect_to_service

    def recording(asyncer, settings):
        started_with.append(settings.x_service_wait)
        return connect(asyncer, settings)

    wandb.teardown()  # a fresh service, as in a job
    monkeypatch.setattr(service_connection, "connect_to_service", recording)
    monkeypatch.setenv(HTTP_TIMEOUT_VARIABLE, "19")  # W&B's default; the test's end restores what was there
    overrides = ["tracker=wandb", "tracker.timeouts.service_wait=77", "tracker.timeouts.request=36.5"]
    train(load_config([*TINY, *overrides, f"output_root={tmp_path}"]))
    assert started_with == [77] and os.environ[HTTP_TIMEOUT_VARIABLE] == "37"


@pytest.mark.slow
def test_w_and_bs_public_api_client_takes_the_request_bound_imported_before_or_after(monkeypatch):
    """Its class reads WANDB_HTTP_TIMEOUT once, at its module's import: a run's bound set before that import is what
    a fresh process's client takes; one set after it (an earlier run of the process imported the client) is given to
    the class. Against a silent server, `log_artifact` waited on this client 19 s, W&B's default, and returned."""
    probe = (
        "import importlib, sys\n"
        "from repro.tracking.wandb_bounds import PUBLIC_API_MODULE, WandbBounds, bound_public_api\n"
        "bound_public_api(WandbBounds(request=40.2))\n"
        "assert PUBLIC_API_MODULE not in sys.modules\n"
        "print(importlib.import_module(PUBLIC_API_MODULE).Api._HTTP_TIMEOUT)\n"
    )
    fresh = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=600)
    assert fresh.returncode == 0 and fresh.stdout.split() == ["41"], fresh.stderr[-2000:]

    public_api = importlib.import_module(PUBLIC_API_MODULE)
    monkeypatch.setattr(public_api.Api, "_HTTP_TIMEOUT", public_api.Api._HTTP_TIMEOUT)  # restored at the end
    monkeypatch.setenv(HTTP_TIMEOUT_VARIABLE, "19")
    bound_public_api(WandbBounds(request=52))
    assert public_api.Api._HTTP_TIMEOUT == 52 and os.environ[HTTP_TIMEOUT_VARIABLE] == "52"
