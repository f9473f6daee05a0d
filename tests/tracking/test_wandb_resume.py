"""A run resumed after its process was killed sends W&B the epochs the server never got (`WandbTracker.catch_up`):
a kill takes with it what the process's W&B service had not sent yet, which may be every epoch it trained. Against
the W&B stand-in, a run online is frozen past epoch 2 and killed with SIGKILL; once its W&B service has ended, the
stand-in forgets the rest (as if only its first epoch had been sent); the resumed run ends with every epoch once on
the server, and the final summary.

Both runs are started by a process that left a W&B service running (WANDB_SERVICE, as a notebook or a test process
that used W&B leaves one): were a run to join it, the killed run's W&B id would stay in use there, the resumed run's
start online would be refused and its epochs would go to an offline folder (what a test process beside other W&B
tests once did), so each run starts a service of its own (repro/tracking/wandb_service.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from repro.runs.rundir import RunDir
from sweep_subprocess import status_epoch, wait_for
from testing_support.wandb_endpoint import FAKE_API_KEY, parent_wandb_service, wandb_services_of, wandb_standin

EPOCHS = 12  # the run cannot finish while the test freezes it past epoch 2


@pytest.mark.slow
@pytest.mark.e2e
def test_a_killed_online_run_resumes_and_the_server_gets_every_epoch_once(tmp_path):
    out = tmp_path / "out"
    overrides = [f"optim.epochs={EPOCHS}", "data.subset=200", "data.test_subset=100", "progress=none"]
    overrides += ["tracker=wandb", "tracker.mode=online", "tracker.entity=standin", f"output_root={out}"]
    # W&B's start takes 10-20 s on a loaded machine: bounds far above it, so the resumed run stays online (its
    # catch-up is online only) however slow the machine; they only turn a hang into a failure
    overrides += ["tracker.timeouts.total=600", "tracker.timeouts.init=300", "tracker.timeouts.service_wait=300"]
    with wandb_standin() as server, parent_wandb_service(tmp_path) as service:
        env = {**os.environ, "WANDB_BASE_URL": server.url, "WANDB_API_KEY": FAKE_API_KEY, "WANDB_SERVICE": service}
        env.pop("WANDB_MODE", None)
        command = [sys.executable, "-m", "repro.cli", "train", *overrides]
        first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        runs = out / "runs"

        def past_two() -> bool:
            assert first.poll() is None, "the run ended before it could be frozen"
            found = list(runs.glob("*/status.json")) if runs.is_dir() else []
            return bool(found) and status_epoch(RunDir(found[0].parent)) >= 2

        wait_for(past_two, "the run past epoch 2", poll_s=0.005)
        os.kill(first.pid, signal.SIGSTOP)
        rd = RunDir(next(runs.iterdir()))
        killed_at = status_epoch(rd)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        # what the killed run's W&B service sends before it sees its run gone reaches the server before the cut
        wait_for(lambda: not wandb_services_of(first.pid), "the killed run's W&B service ending")
        wandb_id = (rd.path / "wandb_id.txt").read_text().strip()
        with server.lock:  # the server got at most the first epoch of the killed process (whatever it was sent)
            record = server.runs.get(wandb_id)
            if record is not None and record.history:
                record.history = {0: record.history[min(record.history)]}
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)  # a hang guard
        assert again.returncode == 0, again.stderr[-2000:]
        assert f"resumed from checkpoint at epoch {killed_at}" in rd.log_file.read_text()
        record = server.runs[wandb_id]
        epochs = sorted(row["epoch"] for row in record.history.values() if "accuracy/test" in row)
        assert epochs == list(range(1, EPOCHS + 1))
        assert record.summary["summary/final_test_acc"] == json.loads(rd.summary_file.read_text())["final_test_acc"]
