"""The training loop: one final, resolved config in, one complete run directory out.

A recipe (torchtune's recipes, nanoGPT's loop): `train` takes the run's lock; setup (`build_experiment`, `_resume`,
the epoch limit, `_start`), the epochs (`_train_epochs`: each `_train_epoch` trains, records and commits one), finish
(`_finish`). Each step handles its own errors (a checkpoint that does not fit, a non-finite loss, a signal).

The loop is the same for every method and knows none by name: each batch goes to the run's method
(repro/methods/), which decides the targets, weights, meta-gradients and optimizer steps. It knows no sweep stage
either: what a stage decides when a run starts (a tuned run's winner, a rung's epoch limit, the tuning record in
its summary) is decided before, by repro/sweep/start.py, and handed in as the config, an `EpochLimit` and
summary fields.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Mapping

from omegaconf import DictConfig

from repro.config import to_container
from repro.errors import Interrupted, UserError, stop_on_signals  # Interrupted: repro.train's public name too
from repro.labels import NonFiniteLabelsError
from repro.methods import NonFiniteLossError, build_method, check_method_ready, method_declaration
from repro.recorders.registry import eval_images, run_recorders
from repro.runs import provenance
from repro.runs.attempts import archive_done_run, tracker_id
from repro.runs.checkpoint import load_checkpoint, save_checkpoint
from repro.runs.io import directory_undone_on_failure
from repro.runs.records import read_summary
from repro.runs.rundir import RunDir
from repro.runs.runlock import FileLock
from repro.tracking.tracker import make_tracker
from repro.training.epoch_end import evaluate_epoch, summarise
from repro.training.experiment import Experiment, prepare_parts
from repro.training.progress import EpochProgress
from repro.training.protocols import EpochLimit
from repro.training.steptotals import StepTotals


@dataclass
class RunResult:
    run_dir: RunDir
    summary: dict[str, Any]
    already_done: bool = False
    stopped: str = ""  # an epoch limit (a rung's job): why the run stopped short of its epochs (or never started)


def train(
    cfg: DictConfig,
    *,
    limit: EpochLimit | None = None,
    summary_fields: Mapping[str, Any] | None = None,
    stop_after_epochs: int | None = None,
    wait: float | bool = False,
    rerun: bool = False,
) -> RunResult:
    """Train one run; resume it from its checkpoint if one exists; a done run is a no-op, or with `rerun` is kept
    as an earlier attempt and trained again (repro/runs/attempts.py).

    `cfg` is final: the loop trains it as it is (a sweep stage's node, `tune` or `halving`, was acted on before:
    repro/sweep/start.py). `limit` stops the run short of its epochs with status `stopped`;
    `summary_fields` go into provenance.json when it starts and summary.json when it is done.
    `stop_after_epochs` ends the process's work early (as a preemption would) after that many epochs in this call;
    tests use it to prove that resuming gives the same result as an uninterrupted run. A run has one writer: if
    another process holds it, `LockHeld` (exit 3) names it, or with `wait` (seconds, or True) this call waits.
    """
    config = to_container(cfg)
    rd = RunDir.for_config(config)
    if rerun and rd.is_done():
        archive_done_run(rd, wait)
    if rd.is_done():
        return RunResult(rd, read_summary(rd) or {}, already_done=True)  # damaged: DamagedRecord, what to do
    check_method_ready(cfg)  # runs it reads (a teacher, fold runs) exist and are done: before anything is written
    # a refusal that comes later (its data cannot be loaded, another process holds it) leaves no new empty directory
    with directory_undone_on_failure(rd.path), rd.hold(wait) as lock:
        if rd.is_done():  # the writer we waited for finished it
            return RunResult(rd, read_summary(rd) or {}, already_done=True)
        return _train_held(cfg, config, rd, lock, limit, dict(summary_fields or {}), stop_after_epochs)


def build_experiment(cfg: DictConfig, run_dir: RunDir, data: Any = None) -> Experiment:
    """Everything a run trains with, built from its config: the run's parts, its method built on them (the method's
    state is part of the checkpoint) and the run's recorders (the method's own and the registered ones,
    repro/recorders/), made into one whole experiment. `data`: prepare_parts' (`repro bench`'s synthetic epochs)."""
    parts = prepare_parts(cfg, run_dir, data)
    method = build_method(cfg, parts)
    return Experiment.whole(parts, method, run_recorders(parts, method))


@dataclass
class _Training:
    """What the run's one writer trains with once started: the experiment, its epochs, its history, its sinks."""

    exp: Experiment
    rd: RunDir
    lock: FileLock
    limit: EpochLimit | None
    fields: dict[str, Any]
    history: list[dict[str, Any]]
    start: int
    end: int
    tracker: Any
    progress: EpochProgress
    committed: int  # the epoch of the last checkpoint


def _train_held(
    cfg: DictConfig,
    config: dict,
    rd: RunDir,
    lock: FileLock,
    limit: EpochLimit | None,
    fields: dict[str, Any],
    stop_after_epochs: int | None,
) -> RunResult:
    """The body of `train`, run by the run's one writer (the caller holds `lock`): setup, the epochs, finish; the
    tracker and the progress close whatever happened."""
    exp = build_experiment(cfg, rd)
    start, history = _resume(exp, rd)
    end = exp.optim.epochs if limit is None else limit.end_epoch(exp.optim.epochs)  # on the full run's schedule
    if end < exp.optim.epochs and start >= end:  # the run already reached its limit: left as it is
        why = _record_stop(rd, limit, start, exp.optim.epochs, write=start == end)
        return RunResult(rd, {"stopped": why}, stopped=why)
    tracker, progress = _start(cfg, config, rd, exp, fields, history, resuming=start > 0)
    run = _Training(exp, rd, lock, limit, fields, history, start, end, tracker, progress, committed=start)
    exit_code = 1
    try:
        _train_epochs(run, stop_after_epochs)
        result = _finish(run)
        exit_code = 0
        return result
    finally:
        run.progress.close()
        run.tracker.finish(exit_code=exit_code)
        provenance.record_end(rd.path, (rd.read_status() or {}).get("state", "unknown"))


def _resume(exp: Experiment, rd: RunDir) -> tuple[int, list[dict[str, Any]]]:
    """(the epoch to start at, the history so far): from the run's checkpoint where it has one, which must fit the
    experiment (a refused resume changes no file), else (0, [])."""
    if not rd.checkpoint_file.exists():
        return 0, []
    state = load_checkpoint(rd.checkpoint_file)
    try:
        exp.load_state_dict(state)
    except (RuntimeError, KeyError, ValueError, IndexError) as exc:
        raise UserError(
            f"The checkpoint {rd.checkpoint_file} does not fit this run's model, optimizer or labels "
            f"({' '.join(str(exc).split())[:300]}): it comes from another config or data set. It was left "
            f"untouched; move it aside (e.g. `mv {rd.checkpoint_file} {rd.checkpoint_file}.bad`) and run again."
        ) from None
    start, history = int(state["epoch"]), list(state["history"])
    rd.log(f"resumed from checkpoint at epoch {start}")
    rd.write_metrics(history)  # a kill between the checkpoint and the metrics left them an epoch behind
    return start, history


def _start(
    cfg: DictConfig, config: dict, rd: RunDir, exp: Experiment, fields: dict, history: list, *, resuming: bool
) -> tuple[Any, EpochProgress]:
    """The run's records of its start (its config, after the checkpoint loaded; provenance with the fields a stage
    gave) and its sinks: (the tracker, caught up with a resumed run's epochs; the progress lines)."""
    rd.write_config(config)  # after the checkpoint loaded: a refused resume changes no file
    provenance.record_start(rd.path, exp.hardware.describe(), exp.hardware.device)
    provenance.record_fields(rd.path, fields)  # e.g. what was tuned, from which runs
    tracker = make_tracker(run_id=tracker_id(rd), run_dir=rd.path, config=config, resuming=resuming)
    tracker.start(exp)
    tracker.catch_up(history)  # resumed: the epochs W&B lost with a killed process (a fresh run: none)
    return tracker, EpochProgress(mode=str(cfg.progress), total_epochs=exp.optim.epochs, run_id=rd.run_id)


def _train_epochs(run: _Training, stop_after_epochs: int | None) -> None:
    """The epochs from `run.start` to `run.end`, each committed by its checkpoint. A non-finite loss or labels fail
    the run (status `failed`, the last good checkpoint kept); a signal interrupts it (status `interrupted` at the
    epoch of its last checkpoint, where it resumes)."""
    rd = run.rd
    try:
        with stop_on_signals() as signals:
            rd.write_status("running", epoch=run.start)  # once written, a signal ends the run as `interrupted`
            for epoch in range(run.start, run.end):
                if stop_after_epochs is not None and epoch - run.start >= stop_after_epochs:
                    raise Interrupted(f"stopped after {stop_after_epochs} epoch(s) as asked")
                _train_epoch(run, epoch, signals)
                signals.raise_if_received()  # a signal whose exception was swallowed still stops the run here
    except (NonFiniteLossError, NonFiniteLabelsError) as exc:
        rd.write_status("failed", epoch=len(run.history), message=str(exc))
        rd.log(f"failed: {exc}")
        raise UserError(
            f"Run {rd.run_id} stopped: {exc} The last good checkpoint ({rd.checkpoint_file}) is kept and no summary "
            "was written. Lower optim.lr (or the label learning rate method.label_lr) and run again in a fresh "
            "output_root, or move the run directory aside."
        ) from None
    except (Interrupted, KeyboardInterrupt) as exc:
        why = str(exc) or ("received SIGINT" if isinstance(exc, KeyboardInterrupt) else "interrupted")
        # The epoch of the last checkpoint, not of the last epoch trained: a signal between an epoch's end and its
        # checkpoint loses that epoch, and the status must say where the run really resumes.
        rd.write_status("interrupted", epoch=run.committed, message=why)
        rd.log(
            f"interrupted; the checkpoint of epoch {run.committed} is kept ({why}); the next `repro train` of this "
            "run resumes from it"
        )
        raise


def _train_epoch(run: _Training, epoch: int, signals: stop_on_signals) -> None:
    """One epoch trained, recorded and committed: its records, its checkpoint (the commit point, which a signal
    does not split from `run.committed`), then the metrics file, the tracker, the status and the log."""
    exp, rd = run.exp, run.rd
    row = run_epoch(exp, epoch, run.progress)
    # Label records come first: they add their scalars to `row` (so to the history and metrics), and a checkpoint of
    # epoch e+1 then implies epoch e's records exist. Their time is the epoch's too (the memorisation pass: a third of
    # a plain epoch on CIFAR), so GPU-hours spent and the plan-against-actual benchmark count it.
    recording = time.perf_counter()
    exp.record_epoch(epoch, row, run.tracker)
    row["seconds"] += time.perf_counter() - recording
    run.history.append(row)
    run.lock.check()  # never write after another process took the run over
    with signals.deferred():
        save_checkpoint({**exp.state_dict(), "epoch": epoch + 1, "history": run.history}, rd.checkpoint_file)
        run.committed = epoch + 1
    rd.write_metrics(run.history)
    run.tracker.log(row, step=epoch + 1)
    rd.write_status("running", epoch=epoch + 1)
    rd.log(run.progress.format_row(row))


def _finish(run: _Training) -> RunResult:
    """The run's end: where an epoch limit stopped it short, status `stopped` (a finished run of its own kind, no
    summary); else its summary, status `done` and the end of its run on the tracker."""
    rd, epochs = run.rd, run.exp.optim.epochs
    if run.end < epochs:
        why = _record_stop(rd, run.limit, run.end, epochs)
        return RunResult(rd, {"stopped": why}, stopped=why)
    summary = {**summarise(run.history, run.exp), **run.fields}
    run.lock.check()
    rd.write_summary(summary)
    rd.write_status("done", epoch=epochs)
    run.tracker.end_run(run.history, summary)
    return RunResult(rd, summary)


def run_epoch(exp: Experiment, epoch: int, progress: EpochProgress) -> dict[str, Any]:
    """One pass over the training set, then evaluation; returns the epoch's metrics row."""
    started = time.perf_counter()
    exp.model.train()
    exp.set_epoch(epoch)
    lr = exp.optim.lr
    hw = exp.hardware
    totals = StepTotals(hw.device)
    steps = exp.optim.steps_in_epoch(epoch)  # a full pass, but where optim.iterations ends the run mid-epoch
    bar = progress.start_epoch(epoch, steps)
    for _, (x, y, idx) in zip(range(steps), exp.batches.train):  # range first: no batch is drawn past the last step
        x, y, idx = hw.prepare_batch(x), y.to(hw.device, non_blocking=True), idx.to(hw.device, non_blocking=True)
        with hw.autocast():
            out = exp.method.train_step(exp, x, y, idx)
        exp.optim.schedule.after_step()
        if totals.add(out.loss, out.logits, y) and not totals.finite:
            raise NonFiniteLossError(f"the training loss became {totals.loss_sum} at epoch {epoch + 1}.")
        bar.update(loss=totals.mean_loss, acc=totals.accuracy)
    totals.read()
    if not totals.finite:
        raise NonFiniteLossError(f"the training loss became {totals.loss_sum} at epoch {epoch + 1}.")
    exp.optim.schedule.after_epoch()
    row: dict[str, Any] = {
        "epoch": epoch + 1,
        "lr": lr,
        "train_loss": totals.mean_loss,
        "train_acc": totals.accuracy,
    }
    row.update(exp.method.end_epoch(exp))
    row.update(evaluate_epoch(exp))
    row["seconds"] = time.perf_counter() - started
    bar.close(row)
    return row


def epoch_eval_images(config: dict[str, Any], n_train: int, n_meta: int, n_test: int) -> int:
    """Images evaluated (a forward in eval mode) once per epoch, from the config alone, for the cost estimate
    (repro/sweep/budget/costs.py): `evaluate_epoch`'s validation and test passes, the method's own passes
    (MethodDeclaration.epoch_eval_images) and every registered recorder's that works each epoch (repro/recorders/)."""
    method = method_declaration(str(config["method"]["name"]))
    recorders = eval_images(config, n_train, n_meta, n_test).every_epoch
    return n_meta + n_test + method.epoch_eval_images(n_train, n_meta, n_test) + recorders


def last_epoch_eval_images(config: dict[str, Any], n_train: int, n_meta: int, n_test: int) -> int:
    """Images evaluated once, at the run's last epoch, by the registered recorders that work then (a fold run's
    held-out probabilities, the annotators' agreement): priced once per run."""
    return eval_images(config, n_train, n_meta, n_test).last_epoch


def _record_stop(rd: RunDir, limit: EpochLimit, epoch: int, total: int, *, write: bool = True) -> str:
    """An epoch limit ends the run at `epoch`: status `stopped`, a finished run of its own kind (no summary), in
    the run directory contract (docs/architecture.md). Returns what the status says."""
    why = limit.stopped(epoch, total)
    if write:
        rd.write_status("stopped", epoch=epoch, message=why)
        rd.log(why)
    return why
