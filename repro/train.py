"""The training loop: one final, resolved config in, one complete run directory out.

The loop is the same for every method and knows none by name: each batch goes to the run's method
(repro/methods/), which decides the targets, weights, meta-gradients and optimizer steps. It knows no sweep stage
either: what a stage decides when a run starts (a tuned run's winner, a rung's epoch limit, the tuning record in
its summary) is decided before, by repro/sweep/start.py, and handed in as the config, an `EpochLimit` and
summary fields.
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass
from typing import Any, Mapping

from omegaconf import DictConfig

from repro.config import to_container
from repro.errors import Interrupted, UserError  # noqa: F401  (Interrupted: repro.train's public name)
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
from repro.training.evaluation import evaluate
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


def _train_held(
    cfg: DictConfig,
    config: dict,
    rd: RunDir,
    lock: FileLock,
    limit: EpochLimit | None,
    fields: dict[str, Any],
    stop_after_epochs: int | None,
) -> RunResult:
    """The body of `train`, run by the run's one writer (the caller holds `lock`)."""
    exp = build_experiment(cfg, rd)
    start_epoch, history = 0, []
    if rd.checkpoint_file.exists():
        state = load_checkpoint(rd.checkpoint_file)
        try:
            exp.load_state_dict(state)
        except (RuntimeError, KeyError, ValueError, IndexError) as exc:
            raise UserError(
                f"The checkpoint {rd.checkpoint_file} does not fit this run's model, optimizer or labels "
                f"({' '.join(str(exc).split())[:300]}): it comes from another config or data set. It was left "
                f"untouched; move it aside (e.g. `mv {rd.checkpoint_file} {rd.checkpoint_file}.bad`) and run again."
            ) from None
        start_epoch, history = int(state["epoch"]), list(state["history"])
        rd.log(f"resumed from checkpoint at epoch {start_epoch}")
        rd.write_metrics(history)  # a kill between the checkpoint and the metrics left them an epoch behind
    committed = start_epoch  # the epoch of the last checkpoint: where a stopped run resumes
    epochs = exp.optim.epochs
    end = epochs if limit is None else limit.end_epoch(epochs)  # the limit is on the full run's schedule
    if end < epochs and start_epoch >= end:  # the run already reached its limit: left as it is
        why = _record_stop(rd, limit, start_epoch, epochs, write=start_epoch == end)
        return RunResult(rd, {"stopped": why}, stopped=why)
    rd.write_config(config)  # after the checkpoint loaded: a refused resume changes no file
    provenance.record_start(rd.path, exp.hardware.describe(), exp.hardware.device)
    provenance.record_fields(rd.path, fields)  # e.g. what was tuned, from which runs

    tracker = make_tracker(run_id=tracker_id(rd), run_dir=rd.path, config=config, resuming=start_epoch > 0)
    tracker.start(exp)
    tracker.catch_up(history)  # resumed: the epochs W&B lost with a killed process (a fresh run: none)
    progress = EpochProgress(mode=str(cfg.progress), total_epochs=epochs, run_id=rd.run_id)
    exit_code = 1
    try:
        with _stop_on_signals() as signals:
            rd.write_status("running", epoch=start_epoch)  # once written, a signal ends the run as `interrupted`
            for epoch in range(start_epoch, end):
                if stop_after_epochs is not None and epoch - start_epoch >= stop_after_epochs:
                    raise Interrupted(f"stopped after {stop_after_epochs} epoch(s) as asked")
                row = run_epoch(exp, epoch, progress)
                # Label records come first: they add their scalars to `row` (so to the history and metrics), and a
                # checkpoint of epoch e+1 then implies epoch e's records exist (a resumed run has no gap). Their time
                # is the epoch's too (the memorisation pass: a third of a plain epoch on CIFAR), so GPU-hours spent
                # and the plan-against-actual benchmark count it.
                recording = time.perf_counter()
                exp.record_epoch(epoch, row, tracker)
                row["seconds"] += time.perf_counter() - recording
                history.append(row)
                # The checkpoint is the commit point of an epoch; the metrics file follows it.
                lock.check()  # never write after another process took the run over
                save_checkpoint({**exp.state_dict(), "epoch": epoch + 1, "history": history}, rd.checkpoint_file)
                committed = epoch + 1
                rd.write_metrics(history)
                tracker.log(row, step=epoch + 1)
                rd.write_status("running", epoch=epoch + 1)
                rd.log(progress.format_row(row))
                signals.raise_if_received()  # a signal whose exception was swallowed still stops the run here
        if end < epochs:  # status `stopped`: a finished run of its own kind, no summary
            exit_code, why = 0, _record_stop(rd, limit, end, epochs)
            return RunResult(rd, {"stopped": why}, stopped=why)
        summary = {**summarise(history, exp), **fields}
        lock.check()
        rd.write_summary(summary)
        rd.write_status("done", epoch=epochs)
        tracker.end_run(history, summary)
        exit_code = 0
        return RunResult(rd, summary)
    except (NonFiniteLossError, NonFiniteLabelsError) as exc:
        rd.write_status("failed", epoch=len(history), message=str(exc))
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
        rd.write_status("interrupted", epoch=committed, message=why)
        rd.log(
            f"interrupted; the checkpoint of epoch {committed} is kept ({why}); the next `repro train` of this "
            "run resumes from it"
        )
        raise
    finally:
        progress.close()
        tracker.finish(exit_code=exit_code)
        provenance.record_end(rd.path, (rd.read_status() or {}).get("state", "unknown"))


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


def evaluate_epoch(exp: Experiment) -> dict[str, Any]:
    """The end-of-epoch evaluation: accuracy on the held-out meta part and on the test set, overall and per class."""
    model = exp.method.eval_model(exp)
    row: dict[str, Any] = {}
    if exp.data.meta_idx.numel():
        val = evaluate(  # against the held-out part's own labels: clean, or noisy with split.held_out_labels=noisy
            model,
            exp.data.train.images,
            exp.data.train_targets,
            exp.data.meta_idx,
            exp.eval_loader_kwargs,
            per_class=True,
        )
        row["val_acc"] = val.accuracy
        row["val_per_class_acc"] = val.per_class
    test = evaluate(model, exp.data.test.images, exp.data.test.targets, None, exp.eval_loader_kwargs, per_class=True)
    row["test_acc"] = test.accuracy
    row["test_per_class_acc"] = test.per_class  # every run has it (a split=full run has no meta set)
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


def summarise(history: list[dict[str, Any]], exp: Experiment) -> dict[str, Any]:
    """Final test accuracy, and test accuracy at the epoch of best validation accuracy (never select by test)."""
    last = history[-1]
    summary: dict[str, Any] = {
        "final_test_acc": last["test_acc"],
        "final_train_acc": last["train_acc"],
        "epochs": len(history),
        "seconds": sum(r["seconds"] for r in history),
    }
    if "val_acc" in last:
        best = max(history, key=lambda r: (r["val_acc"], r["epoch"]))  # ties: the later epoch
        summary.update(
            best_val_epoch=best["epoch"],
            best_val_acc=best["val_acc"],
            test_acc_at_best_val=best["test_acc"],
            final_val_acc=last["val_acc"],
        )
    summary.update(exp.summary_extras())
    return summary


def _record_stop(rd: RunDir, limit: EpochLimit, epoch: int, total: int, *, write: bool = True) -> str:
    """An epoch limit ends the run at `epoch`: status `stopped`, a finished run of its own kind (no summary), in
    the run directory contract (docs/architecture.md). Returns what the status says."""
    why = limit.stopped(epoch, total)
    if write:
        rd.write_status("stopped", epoch=epoch, message=why)
        rd.log(why)
    return why


class _stop_on_signals:
    """Turn SIGTERM (SLURM time limit / preemption without submitit) into a clean `Interrupted`, and Ctrl-C into
    KeyboardInterrupt as Python does.

    The handler raises at once, and also remembers the signal: Python drops an exception raised while a finaliser
    (`__del__`, a weakref callback) runs, so a run whose exception was lost that way stops at its epoch's end."""

    def __enter__(self):
        self.received: int | None = None
        self._previous: dict[int, Any] = {}
        if _is_main_thread():
            self._previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, self._handle)
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when SIGINT is ignored
                self._previous[signal.SIGINT] = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        self.received = signum
        self.raise_if_received()

    def raise_if_received(self) -> None:
        if self.received == signal.SIGINT:
            raise KeyboardInterrupt
        if self.received is not None:
            raise Interrupted(f"received {signal.Signals(self.received).name}", signum=self.received)

    def __exit__(self, *exc):
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        return False


def _is_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()
