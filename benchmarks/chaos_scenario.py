"""One scenario of benchmarks/chaos.py: a digits sweep trained by one executor (here, or on SLURM; packed or not),
disturbed by N faults drawn at random, then re-run until done and checked against the undisturbed reference.

Each fault is a record: its kind, its variant (the signal, how a job or W&B was killed), the run it hit and the epoch
that run had committed, and, for a fault that ends the process training a run, how soon `repro sweep status` stopped
calling that run running once its process had ended (`status_within_s`, None past STATUS_BOUND_S).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import chaos_checks as checks
from benchmarks import chaos_faults as faults
from repro.runs.rundir import RunDir
from repro.sweep.executors.slurm import cluster
from repro.sweep.executors.slurm.registry import latest_jobs
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.spec.model import Scale
from repro.sweep.status import sweep_status
from repro.sweep.sweep_file import load_sweep

STATUS_BOUND_S = 20.0  # what a script may count on: status no longer calls a dead run running after this
PROCESS_END_GUARD_S = 120.0  # a hit process's clean stop: its W&B teardown is bounded by tracker.timeouts.total (60)
RERUNS = 12  # re-runs of the command after the faults, at most, before the scenario is called stuck
HANG_GUARD_S = 1800.0  # one wait (a command, the queue): only a hang reaches it
# W&B online to the stand-in (the command line's overrides: not part of a run's id)
ONLINE = ("tracker=wandb", "tracker.mode=online", "tracker.entity=standin", "tracker.timeouts.total=60")


@dataclass
class Scenario:
    name: str
    executor: str  # local | slurm
    packed: bool  # --runs-per-gpu 2
    kinds: tuple[str, ...]  # the faults it may draw


@dataclass
class Setting:
    """What every scenario shares: the sweep, its scale, the environment, the W&B server, the local cluster."""

    sweep: Path
    scale: Scale
    out: Path
    env: dict[str, str]
    profile: Path
    wandb: Any = None  # chaos_faults.WandbServer, or None: W&B off
    cluster_dir: Path | None = None  # a cluster this benchmark started (its slurmd may be killed and restarted)
    node: str = ""


@dataclass
class Runner:
    scenario: Scenario
    setting: Setting
    rng: random.Random
    records: list[dict] = field(default_factory=list)
    exits: list[int] = field(default_factory=list)  # the command's exit statuses, in order
    proc: subprocess.Popen | None = None
    timers: list[threading.Timer] = field(default_factory=list)
    reruns: int = 0  # re-runs of the command after the faults
    starts: int = 0  # re-runs of the command while the faults were drawn
    t0: float = 0.0  # when the scenario's first command started (a fault's `at_s` counts from it)

    def __post_init__(self) -> None:
        self.out = self.setting.out / self.scenario.name
        self.tag = f"{uuid.uuid4().hex[:12]}-{self.scenario.name}"
        self.env = {**self.setting.env, faults.TAG_VAR: self.tag}
        planned = expand_sweep(load_sweep(self.setting.sweep), output_root=self.out.resolve(), scale=self.setting.scale)
        self.runs = [RunDir(self.out / "runs" / r.run_id) for r in planned]
        self.log = self.setting.out / f"{self.scenario.name}.log"

    # ---------------------------------------------------------------------------------------------- the command
    def command(self) -> list[str]:
        s = self.setting.scale
        cmd = [sys.executable, "-m", "repro.cli", "sweep", str(self.setting.sweep), "--output-root", str(self.out)]
        cmd += ["--epochs", str(s.epochs), "--subset", str(s.subset), "--test-subset", str(s.test_subset)]
        cmd += ["tracker=none"] if self.setting.wandb is None else list(ONLINE)
        if self.scenario.executor == "slurm":
            cmd += ["--executor", "slurm", "--profile", str(self.setting.profile)]
            return cmd + (["--runs-per-gpu", "2"] if self.scenario.packed else [])
        return cmd + (["--jobs", "1", "--runs-per-gpu", "2"] if self.scenario.packed else ["--jobs", "2"])

    def start(self) -> None:
        """The command, again (after the one still running, if any): here on two CPUs (one torch thread per run, as
        the reference and the SLURM jobs have)."""
        if self.proc is not None:
            self.proc.wait(HANG_GUARD_S)
        self.reap()
        cpus = sorted(os.sched_getaffinity(0))[:2]
        self.proc = faults.start_command(self.command(), env=self.env, log=self.log, cwd=self.setting.out, cpus=cpus)

    def reap(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            self.exits.append(self.proc.returncode)
            self.proc = None

    def going(self) -> bool:
        """Something trains, or will: the command runs, or (SLURM) a job of this scenario is queued or running."""
        if self.proc is not None and self.proc.poll() is None:
            return True
        if self.scenario.executor != "slurm":
            return False
        ours = {rec.job_id for rec in latest_jobs(self.out.resolve()).values()}
        return bool(ours & set(cluster.queued_jobs()))

    def keep_going(self) -> bool:
        """Re-run the command when nothing trains and runs are left (as a user would after a failure); whether
        anything is left to train."""
        if all(rd.is_done() for rd in self.runs):
            return False
        if not self.going():
            self.starts += 1
            if self.starts > RERUNS * 4:
                raise RuntimeError(f"{self.scenario.name}: the command was started {self.starts} times; see {self.log}")
            self.start()
        return True

    # ----------------------------------------------------------------------------------------------- the faults
    def run(self, n: int) -> None:
        kinds = [k for k in self.scenario.kinds]
        draws = (kinds * (n // len(kinds) + 1))[:n]
        self.rng.shuffle(draws)
        self.t0 = time.monotonic()
        self.start()
        for kind in draws:
            self.keep_going()
            record = {"fault": kind, "landed": False}
            try:
                getattr(self, "_" + kind.replace("-", "_"))(record)
            except (OSError, subprocess.SubprocessError) as exc:  # the fault could not be made: said, and on
                record["error"] = repr(exc)
            finally:
                self.records.append(record)
            if self.scenario.executor == "slurm" and kind != "kill-command":
                self.start()  # as a user would after a fault: the same command again (queued runs are left alone)
        self.finish()

    def _catch(self, record: dict, *, freeze: bool = True) -> faults.Target | None:
        past = self.rng.randint(1, max(1, self.setting.scale.epochs // 2))  # half the run left: it cannot end first
        target = faults.catch_a_run(self.runs, past, self.rng, self.keep_going, freeze=freeze)
        if target is not None:
            at = round(time.monotonic() - self.t0, 1)
            record.update(run=target.run.run_id, epoch=target.epoch, pid=target.pid, at_s=at, landed=True)
        return target

    def _signals(self, target: faults.Target) -> tuple[int, ...]:
        """SIGTERM is SLURM's preemption signal: a one-run job (plain, or a packed scenario's run re-submitted alone)
        answers it by waiting for a requeue (120 s), so it is not drawn there; a packed job's child and a local
        worker may get any of these."""
        plain_job = self.scenario.executor == "slurm" and faults.PACKED_CHILD not in faults.command_line(target.pid)
        return faults.FATAL + (() if plain_job else (signal.SIGTERM,))

    def _kill_run(self, record: dict) -> None:
        target = self._catch(record)
        if target is None:
            return
        signum = self.rng.choice(self._signals(target))
        record["variant"] = signal.Signals(signum).name
        faults.signal_pid(target.pid, signum)
        faults.signal_pid(target.pid, signal.SIGCONT)
        # a local worker stops its run on SIGTERM and lives on for the next run: only its run ends
        self._status_after(
            record, target, ends_process=not (self.scenario.executor == "local" and signum == signal.SIGTERM)
        )

    def _loose_kill(self, record: dict) -> None:
        target = self._catch(record, freeze=False)
        if target is None:
            return
        time.sleep(self.rng.uniform(0, 0.3))  # wherever it then is: a step, a checkpoint write, a W&B call
        record["variant"] = "SIGKILL at a random moment"
        faults.signal_pid(target.pid, signal.SIGKILL)
        self._status_after(record, target)

    def _oom_run(self, record: dict) -> None:
        target = self._catch(record)
        if target is None:
            return
        record["variant"] = f"out-of-memory killer ({faults.out_of_memory(target.pid, f'chaos-{self.tag}')} kill)"
        self._status_after(record, target)

    def _kill_job(self, record: dict) -> None:
        target = self._catch(record)
        if target is None:
            return
        job = target.job or ""
        variant = self.rng.choice(["scancel", "scancel --signal=KILL"])
        record["variant"] = f"{variant} {job}"
        subprocess.run(["scancel", *variant.split()[1:], job], env=self.env, check=False, capture_output=True)
        faults.signal_pid(target.pid, signal.SIGCONT)
        self._status_after(record, target)

    def _kill_job_process(self, record: dict) -> None:
        """SIGKILL a packed job's own process (its children then stop cleanly: their parent-death signal)."""
        target = self._catch(record)
        if target is None:
            return
        parent = faults.parent_of(target.pid)
        record["variant"] = f"SIGKILL to the packed job's process {parent}"
        if parent:
            faults.signal_pid(parent, signal.SIGKILL)
        faults.signal_pid(target.pid, signal.SIGCONT)
        self._status_after(record, target)

    def _kill_command(self, record: dict) -> None:
        if self.scenario.executor == "slurm":  # it submits and returns: killed somewhere on the way
            self.reap()
            self.start()
            delay = self.rng.uniform(0, 4)
            time.sleep(delay)
            record.update(
                landed=self.proc is not None and self.proc.poll() is None, variant=f"SIGKILL after {delay:.1f} s"
            )
            if self.proc is not None:
                faults.signal_pid(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            return
        target = self._catch(record)
        if target is None or self.proc is None:
            return
        record["variant"] = "SIGKILL of `repro sweep` while its runs train"
        faults.signal_pid(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        faults.signal_pid(target.pid, signal.SIGCONT)

    def _kill_wandb(self, record: dict) -> None:
        server = self.setting.wandb
        target = self._catch(record)
        if target is None or server is None:
            return
        how = self.rng.choice(["kill", "hang"])
        down = self.rng.uniform(5, 20)
        record["variant"] = f"W&B server {'killed (connections refused)' if how == 'kill' else 'hung'} for {down:.0f} s"
        getattr(server, how)()
        faults.signal_pid(target.pid, signal.SIGCONT)
        timer = threading.Timer(down, server.restart)
        timer.start()
        self.timers.append(timer)

    def _kill_slurmd(self, record: dict) -> None:
        target = self._catch(record)
        pid = faults.slurmd_pid(self.setting.cluster_dir) if self.setting.cluster_dir else None
        if target is None or pid is None:
            return
        down = self.rng.uniform(2, 8)
        record["variant"] = f"SIGKILL of slurmd, restarted {down:.0f} s later"
        faults.signal_pid(pid, signal.SIGKILL)
        faults.signal_pid(target.pid, signal.SIGCONT)
        states = self._states()
        record["status_seen"] = f"{states[target.run.run_id].state} (the run trains on)"
        time.sleep(down)
        faults.restart_slurmd(self.setting.cluster_dir / "etc" / "slurm.conf", self.setting.node)

    # ------------------------------------------------------------------------------------------ status and end
    def _states(self) -> dict:
        return sweep_status(self.setting.sweep, output_root=self.out, scale=self.setting.scale).status

    def _status_after(self, record: dict, target: faults.Target, *, ends_process: bool = True) -> None:
        """For a fault meant to end the process training the run, whether it did (`process_ended`) and how long it
        took (a SIGTERM lets it stop cleanly: its W&B teardown included, within the run's W&B budget); then how soon
        after the process ended `repro sweep status` stopped calling the run running, before anything resubmits it
        (a status that says running while the process still lives is true). A run found done has outlived the fault:
        the record says it missed."""
        record["status_checked"] = True
        start = time.monotonic()
        if ends_process:
            record["process_ended"] = faults.wait_gone([target.pid], PROCESS_END_GUARD_S)
            record["process_ended_after_s"] = round(time.monotonic() - start, 1)
        start = time.monotonic()
        while time.monotonic() - start <= STATUS_BOUND_S:
            state = self._states()[target.run.run_id]
            record["status_seen"] = f"{state.state} ({state.detail})"[:160]
            if state.state not in ("running", "pending") or target.run.is_done():
                record["status_within_s"] = round(time.monotonic() - start, 1)
                if target.run.is_done():  # nothing has started it again: the fault did not stop it
                    record.update(landed=False, missed="its run trained on to done: its process did not take the fault")
                return
            time.sleep(0.5)
        record["status_within_s"] = None

    def finish(self) -> None:
        """Re-run the command until every run is done (each time nothing trains any more), then wait for the queue."""
        reruns, guard = 0, time.monotonic() + HANG_GUARD_S
        while not all(rd.is_done() for rd in self.runs):
            if time.monotonic() > guard or reruns > RERUNS:
                raise RuntimeError(f"{self.scenario.name}: not done after {reruns} re-runs; see {self.log}")
            if not self.going():
                self.reap()
                self.start()
                reruns += 1
            time.sleep(1.0)
        while self.going():
            time.sleep(1.0)
        self.reap()
        for timer in self.timers:
            timer.join()
        self.reruns = reruns

    def check(self, reference: Path, epochs: int) -> dict[str, list[str]]:
        """Every check of chaos_checks.py on every run, and the processes left (waited for, then killed)."""
        ref = {rd.run_id: RunDir(reference / "runs" / rd.run_id) for rd in self.runs}
        found = {
            "finished exactly once": [p for rd in self.runs for p in checks.finished_once(rd)],
            "epochs neither repeated nor missing": [p for rd in self.runs for p in checks.epochs_once(rd, epochs)],
            "one writer": [p for rd in self.runs for p in checks.one_writer(rd)],
            "no stale lock or temp file": checks.nothing_stale(self.out),
            "final metrics equal to the undisturbed run's": [
                p for rd in self.runs for p in checks.same_as_reference(rd, ref[rd.run_id])
            ],
            "status right within 20 s": [p for r in self.records for p in checks.status_right(r)],
        }
        if self.setting.wandb is not None:
            sync = [sys.executable, "-m", "repro.cli", "wandb", "sync", str(self.out), "--backoff", "1"]
            done = subprocess.run(sync, env=self.env, capture_output=True, text=True, timeout=HANG_GUARD_S)
            found["W&B record complete after sync"] = [
                *([f"sync exit {done.returncode}: {done.stdout[-300:]}"] if done.returncode else []),
                *(p for rd in self.runs for p in checks.wandb_complete(rd, self.setting.wandb.runs, epochs)),
            ]
        left = faults.tagged(self.tag)
        if left and not faults.wait_gone(left, 60):
            left = faults.tagged(self.tag)
            for pid in left:
                faults.signal_pid(pid, signal.SIGKILL)
        else:
            left = {}
        found["no orphan process"] = [f"pid {pid}: {cmd[:120]}" for pid, cmd in left.items()]
        return found
