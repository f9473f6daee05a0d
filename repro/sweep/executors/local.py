"""Run planned runs on this machine: up to `jobs` at once, each run after the runs it depends on.

Takes the planned runs to train, the ids of the runs already done and each run's planned config file (what it
trains: repro/sweep/sweep_folder.py, repro/sweep/executors/job.py); returns the run ids trained and those that
failed or were skipped.

Dependencies are the planned runs' `depends_on` edges, whatever made them (folds before their final, a teacher before
its student's search runs, tuning runs before what they tune): no stage is special here. With `jobs=1` the runs train
in this process, one after another. With more, a `concurrent.futures.ProcessPoolExecutor` of `jobs` worker processes
(forked from a forkserver that imported torch once) trains them, each worker with its own torch threads (default:
the cores available to this process divided among the workers). A run starts when every run it depends on is done
(of the runs ready, the one with the longest chain of runs waiting on it first, then the costliest by the budget's
estimate, so that the last runs to start are short ones);
a run that fails (or cannot start) is reported and its dependents are reported as skipped, never started; the others
go on. Each run holds its own run lock (repro/runs/runlock.py), as any `repro train` does, so a run trained elsewhere at
the same time is refused, not doubled.

Ctrl-C (SIGINT, or SIGTERM to this process): the workers ignore the terminal's SIGINT; this process sends each of
them one SIGTERM, which a training run turns into a clean stop (status `interrupted`, its last epoch checkpoint
kept, its lock released), then it waits for every worker to exit and re-raises. A re-run resumes. A SIGTERM to one
worker alone stops only its run (`interrupted`, reported as failed: its dependents are skipped, the command exits 1);
the other workers train on.

`runs_per_gpu` K (`--runs-per-gpu`): each of the `jobs` slots trains K runs side by side, so up to jobs x K runs train
at once, each in its own worker process (torch threads: the cores divided among all of them). With CUDA GPUs here,
each run is placed on the GPU with the fewest runs (K per GPU when `jobs` is the number of GPUs); without one, a slot
is a share of this machine's cores and K how many runs share it (jobs=1 with K=3 and jobs=3 both train 3 at once).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from repro.errors import Interrupted, UserError, sigterm_interrupts
from repro.runs.rundir import RunDir
from repro.sweep.budget.calibration import load_calibration
from repro.sweep.budget.costs import run_gpu_hours
from repro.sweep.executors import job, orphans
from repro.sweep.executors.local_pool import PRELOAD, close_pool, init_worker, sigint_ignored, stop_workers, train_one
from repro.sweep.executors.packed import GpuSlots
from repro.sweep.spec.model import PlannedRun

Report = Callable[[str], None]


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, e.g. a SLURM or taskset allocation), not the machine's."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def default_jobs() -> int:
    return available_cores()


def check_jobs(jobs: int | None) -> int:
    """`--jobs`: a positive number of runs at once (None: one per available core)."""
    if jobs is None:
        return default_jobs()
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise UserError(
            f"--jobs {jobs!r}: give how many runs may train at once, a whole number of at least 1 "
            f"(default: the {available_cores()} core(s) available here)."
        )
    return jobs


def run_planned_runs(
    runs: Sequence[PlannedRun],
    *,
    done: Iterable[str] = (),
    jobs: int | None = 1,
    threads: int | None = None,
    metric: str = "final_test_acc",
    configs: Mapping[str, Path],
    report: Report = print,
    runs_per_gpu: int = 1,
) -> tuple[list[str], list[str]]:
    """Train `runs` here, up to `jobs` at once (None: one per available core), each after the runs it depends on,
    each from its planned config file (`configs`: run id -> file, repro/sweep/sweep_folder.py).
    `done`: run ids already done (dependencies outside `runs` must be in it). `threads`: torch threads per worker
    process (default: available cores // jobs; with jobs=1 this process's setting is left as it is).
    Returns (run ids trained, run ids failed or skipped). The one executor of `repro sweep --executor local`,
    `repro demo` and `repro train -m`. `runs_per_gpu`: runs per slot (or GPU), side by side (module docstring)."""
    jobs = check_jobs(jobs) * runs_per_gpu
    scheduler = _Scheduler(runs, set(done), metric, configs, report)
    if jobs == 1 or len(runs) <= 1:
        scheduler.run_serially()
    else:
        threads = threads or max(1, available_cores() // jobs)
        scheduler.run_in_pool(min(jobs, len(runs)), threads)
    return scheduler.ran, scheduler.failed


class _Scheduler:
    """Which run may start, which must be skipped, and the line printed for each."""

    def __init__(
        self, runs: Sequence[PlannedRun], done: set[str], metric: str, configs: Mapping[str, Path], report: Report
    ) -> None:
        self.todo = list(runs)
        self.total, self.labels = len(self.todo), {}
        self.done, self.metric, self.configs, self.report = done, metric, configs, report
        self.ran: list[str] = []
        self.failed: list[str] = []
        self.started: dict[str, float] = {}
        chains, costs = _critical_path(self.todo), _costs(self.todo)
        self.priority = {rid: (chains[rid], costs[rid]) for rid in chains}

    def label(self, run: PlannedRun) -> str:
        """'[k/n] stage run_id (row | column | seed s)', k counting runs in the order they start (or are skipped)."""
        if run.run_id not in self.labels:
            self.labels[run.run_id] = (
                f"[{len(self.labels) + 1}/{self.total}] {run.stage}"
                f"{'' if run.fold is None else f' {run.fold}'} {run.run_id} "
                f"({run.row} | {run.column} | seed {run.seed})"
            )
        return self.labels[run.run_id]

    def next_ready(self, running: set[str]) -> PlannedRun | None:
        """The next run whose dependencies are all done (the one with the longest chain of dependents first, of
        those the costliest); runs that can no longer start are reported as skipped on the way."""
        self._skip_blocked(running)
        ready = [r for r in self.todo if all(d in self.done for d in r.depends_on)]
        if not ready:
            return None
        run = max(ready, key=lambda r: self.priority[r.run_id])  # max keeps the first of equals: plan order
        self.todo.remove(run)
        return run

    def _skip_blocked(self, running: set[str]) -> None:
        """A run that depends on a failed run, or on one that is neither done nor to be trained here, never starts."""
        while True:
            pending = {r.run_id for r in self.todo} | running
            blocked = [r for r in self.todo if any(d not in self.done and d not in pending for d in r.depends_on)]
            if not blocked:
                return
            for run in blocked:
                missing = [d for d in run.depends_on if d not in self.done and d not in pending]
                self.report(f"{self.label(run)}: skipped, {len(missing)} of the runs it depends on did not finish")
                self.failed.append(run.run_id)
                self.todo.remove(run)

    def start(self, run: PlannedRun) -> None:
        self.report(f"{self.label(run)}: training")
        self.started[run.run_id] = time.perf_counter()

    def finished(self, run: PlannedRun, summary: dict[str, Any]) -> None:
        self.done.add(run.run_id)
        self.ran.append(run.run_id)
        took = f"{time.perf_counter() - self.started[run.run_id]:.0f} s"
        if "stopped" in summary:  # a successive-halving rung's job: its run stopped at the rung, or was not promoted
            self.report(f"{self.label(run)}: {summary['stopped'].split(';')[0]} ({took})")
            return
        value = summary.get(self.metric)
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        self.report(f"{self.label(run)}: done in {took}, {self.metric} = {shown}")
        for warning in summary.get("transition_estimate_warnings") or []:  # repro/recorders/transition_check.py
            self.report(f"  WARNING: {warning}")

    @staticmethod
    def run_dir(run: PlannedRun) -> RunDir:
        return RunDir(Path(run.config["output_root"]) / "runs" / run.run_id)

    def failed_with(self, run: PlannedRun, message: str) -> None:
        log = self.run_dir(run).log_file
        self.report(f"{self.label(run)}: failed: {message} (log: {log})")
        self.failed.append(run.run_id)

    # ------------------------------------------------------------------------------------------------ engines
    def run_serially(self) -> None:
        while (run := self.next_ready(set())) is not None:
            self.start(run)
            try:
                result = job.run_planned(self.configs[run.run_id])
            except UserError as exc:
                self.failed_with(run, str(exc))
                continue
            self.finished(run, result.summary)
        self._skip_blocked(set())

    def run_in_pool(self, jobs: int, threads: int) -> None:
        # forkserver: one server process imports torch and the training code once; every worker (of this pool and
        # of later ones in this process) is a cheap fork of it, from a clean single-threaded state.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(PRELOAD))
        pool = ProcessPoolExecutor(
            max_workers=jobs, mp_context=context, initializer=init_worker, initargs=(threads, os.getpid())
        )
        running: dict[Future, PlannedRun] = {}
        gpus = GpuSlots()
        try:
            with sigterm_interrupts(), orphans.command_pid_exported():
                while True:
                    while len(running) < jobs and (run := self.next_ready(set(r.run_id for r in running.values()))):
                        self.start(run)
                        with sigint_ignored():  # the forkserver, started now, and its workers ignore SIGINT
                            future = pool.submit(train_one, self.configs[run.run_id], gpus.take(run.run_id))
                            running[future] = run
                    if not running:
                        break
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        gpus.release(running[future].run_id)
                        self._collect(running.pop(future), future)
            self._skip_blocked(set())
        except BaseException:
            stop_workers(pool)
            raise
        finally:
            close_pool(pool, [self.run_dir(run) for run in running.values()])

    def _collect(self, run: PlannedRun, future: Future) -> None:
        try:
            summary = future.result()
        except UserError as exc:
            self.failed_with(run, str(exc))
        except Interrupted as exc:  # the command's own SIGTERM or Ctrl-C reaches its main thread, never a future
            self.failed_with(
                run,
                f"its worker process alone was stopped ({exc}): the run is interrupted at its last checkpoint and "
                "the next run of the command resumes it",
            )
        except BrokenProcessPool:
            self.failed_with(
                run,
                "its worker process died (killed, or out of memory); run the same command again: "
                "the run resumes from its last checkpoint",
            )
            raise WorkerDied(
                "A worker process died, which stops every run of the pool. Run the same command again: "
                "done runs are kept and the others resume from their last checkpoint."
            ) from None
        else:
            self.finished(run, summary)


class WorkerDied(UserError):
    """A worker process died (killed, or out of memory): a run failed, as when it fails in training (exit 1, not the
    2 of bad input); said in one paragraph, as every UserError."""

    exit_code = 1


def _critical_path(runs: Sequence[PlannedRun]) -> dict[str, int]:
    """Per run, the length of the longest chain of runs (among `runs`) waiting for it: those start first, so that a
    final's folds or a teacher do not end up last."""
    dependents: dict[str, list[str]] = {r.run_id: [] for r in runs}
    for r in runs:
        for d in r.depends_on:
            if d in dependents:
                dependents[d].append(r.run_id)
    depth: dict[str, int] = {}

    def visit(rid: str) -> int:
        if rid not in depth:
            depth[rid] = 1 + max((visit(c) for c in dependents[rid]), default=0)
        return depth[rid]

    for rid in dependents:
        visit(rid)
    return depth


def _costs(runs: Sequence[PlannedRun]) -> dict[str, float]:
    """Per run, its estimated cost: GPU-hours on the calibration at hand (repro/sweep/budget/costs.py: the step its
    method declares x its steps and epochs). Among runs with equally long chains waiting, the costliest starts first,
    so that a sweep does not end on one long run training alone (the demo's 30-epoch meta-learning runs, planned
    last, ended it on one worker for 11 s). Only the relative order matters here, on any calibration. An order
    only: a run that cannot be priced counts as 0 and keeps its plan order."""
    costs = dict.fromkeys((r.run_id for r in runs), 0.0)
    if len(runs) < 2:
        return costs
    try:
        calibration = load_calibration()
    except UserError:  # a damaged calibration file: the estimate says so; the order does without it
        return costs
    for run in runs:
        try:
            costs[run.run_id] = run_gpu_hours(run.config, calibration, run.share) or 0.0
        except (UserError, LookupError, TypeError, ValueError):  # a partial config (a test's, a plug-in stage's)
            pass
    return costs
