"""What a loss-correction run reads and records of its T beyond the loss (repro/methods/loss_correction.py): the
estimator run of an estimated T, the check of that estimate (repro/recorders/transition_check.py) and the summary
fields of the T it corrected with."""

from __future__ import annotations

import sys
from typing import Any

import torch
from omegaconf import DictConfig

from repro.errors import UserError
from repro.recorders.transition_check import describe, estimate_record, estimator_epoch_metrics, write_record
from repro.runs.records import read_config
from repro.training.protocols import Recorder, When


def check_estimate(method: Any, exp: Any) -> dict[str, Any]:
    """The estimate's record (repro/recorders/transition_check.py): written to the run directory and, with its
    warnings, to the run's log and stderr, so that the first estimated-T run of a sweep already says it."""
    from repro.runs.records import read_config

    rd = estimator_run(exp.cfg)
    epoch, loss, acc = estimator_epoch_metrics(rd.read_metrics(), method.estimator_epoch)
    warmup = int(read_config(rd, role="estimator run").get("optim", {}).get("warmup_epochs") or 0)
    record = estimate_record(
        method.t,
        estimator_run=rd.run_id,
        estimate_at=str(method.estimate_at),
        epoch=None if epoch is None else int(epoch),
        noisy_val_loss=loss,
        val_acc=acc,
        warmup_epochs=warmup,
    )
    run_dir = getattr(exp, "run_dir", None)
    if run_dir is not None:
        write_record(run_dir.path, record)
        run_dir.log(f"estimated T: {describe(record)}")
    for warning in record["transition_estimate_warnings"]:
        if run_dir is not None:
            run_dir.log(f"WARNING: {warning}")
        print(f"WARNING: {warning}", file=sys.stderr, flush=True)
    return record


class TransitionRecord(Recorder):
    """summary.json: the T the run corrected with, where it came from, the estimate's check (epoch, noisy held-out
    loss, diagonal mean, condition number, warnings) and, when the noise model's T is known, its mean absolute error
    against it."""

    records = "transition_matrix, its source, the estimate's check and transition_mae in the summary"
    when = When.SUMMARY

    def __init__(self, method: Any) -> None:
        self.method = method

    def on_epoch_end(self, exp: Any, epoch: int, row: dict[str, Any], tracker: Any) -> None:
        pass

    def summary(self) -> dict[str, Any]:
        m = self.method
        out: dict[str, Any] = {
            "transition": m.transition,
            "correction": m.correction,
            "transition_diag_mean": float(torch.diagonal(m.t).mean()),
            "probability_clip": m.options.probability_clip,
        }
        if m.t.shape[0] <= 10:
            out["transition_matrix"] = [[round(v, 6) for v in row] for row in m.t.tolist()]
        if m.estimator_id is not None:
            out.update(estimator_run=m.estimator_id, anchor_samples=m.anchors, estimate_at=m.estimate_at)
        if m.estimate_check is not None:  # epoch, noisy held-out loss, diagonal mean, condition number, warnings
            out.update({k: v for k, v in m.estimate_check.items() if v is not None})
        if m.t_true is not None:
            out["transition_mae"] = float((m.t - m.t_true).abs().mean())
        return out


def estimator_run(cfg: DictConfig):
    """The finished run whose network estimates T: trained on this run's data with the same label noise."""
    from repro.config_tree import to_container
    from repro.runs.teachers import config_differences, find_finished_run

    config = to_container(cfg) if isinstance(cfg, DictConfig) else cfg
    rd = find_finished_run(config["method"].get("estimator"), config["output_root"], option="estimator")
    theirs = read_config(rd, role="estimator run")
    keys = [
        ("data", "name"),
        ("data", "num_classes"),
        ("data", "subset"),
        ("noise", "kind"),
        ("noise", "fraction"),
        ("noise", "seed"),
    ]
    shown = config_differences(theirs, config, keys)
    if shown:
        raise UserError(
            f"The estimator run {rd.run_id} (method.estimator) does not fit this run: it has {shown}. The anchor-point "
            "estimate needs a network trained on the same noisy labels (same data set, subset and noise); name such "
            "a run (e.g. the sweep's one-hot row of the same cell), or change this run's settings to match."
        )
    return rd
