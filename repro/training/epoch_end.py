"""What the training loop (repro/train.py) computes at an epoch's end and at the run's: the epoch's evaluation
(accuracy on the held-out meta part and on the test set, overall and per class) and the run's summary (summary.json:
final test accuracy, and test accuracy at the epoch of best validation accuracy, never selected by test)."""

from __future__ import annotations

from typing import Any

from repro.training.evaluation import evaluate
from repro.training.experiment import Experiment


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
