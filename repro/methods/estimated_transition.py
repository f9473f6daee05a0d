"""What a loss-correction run reads and records of its T beyond the loss (repro/methods/loss_correction.py): the
estimator run of an estimated T, the check of that estimate (repro/recorders/transition_check.py) and the summary
fields of the T it corrected with."""

from __future__ import annotations

import functools
import json
import sys
from typing import Any, Mapping

import torch
from omegaconf import DictConfig
from torch import Tensor

from repro.config_tree import to_container
from repro.data.noise.transition import anchor_transition
from repro.errors import UserError
from repro.recorders.transition_check import describe, estimator_epoch_metrics, write_record
from repro.recorders.transition_estimate import default_percentile, read_kept_probs
from repro.recorders.transition_record import estimate_record
from repro.runs.finished import config_differences, find_finished_run
from repro.runs.records import read_config
from repro.training.protocols import Recorder, When


def check_estimate(method: Any, exp: Any) -> dict[str, Any]:
    """The estimate's record (repro/recorders/transition_check.py): written to the run directory and, with its
    warnings, to the run's log and stderr, so that the first estimated-T run of a sweep already says it."""
    record = estimate_check_record(exp.cfg, method.t, method.estimator_epoch, str(method.estimate_at))
    run_dir = getattr(exp, "run_dir", None)
    if run_dir is not None:
        write_record(run_dir.path, record)
        run_dir.log(f"estimated T: {describe(record)}")
    for warning in record["transition_estimate_warnings"]:
        if run_dir is not None:
            run_dir.log(f"WARNING: {warning}")
        print(f"WARNING: {warning}", file=sys.stderr, flush=True)
    return record


def estimate_check_record(cfg: Any, t: Tensor, epoch: int | None, estimate_at: str) -> dict[str, Any]:
    """The record of a T estimated from the network of `epoch` (None: the final one) of the run's estimator: its
    held-out accuracy and noisy loss there (its metrics.jsonl), its warm-up, T's diagonal mean and condition number."""
    rd = estimator_run(cfg)
    at, loss, acc = estimator_epoch_metrics(rd.read_metrics(), epoch)
    warmup = int(read_config(rd, role="estimator run").get("optim", {}).get("warmup_epochs") or 0)
    return estimate_record(
        t,
        estimator_run=rd.run_id,
        estimate_at=estimate_at,
        epoch=None if at is None else int(at),
        noisy_val_loss=loss,
        val_acc=acc,
        warmup_epochs=warmup,
    )


def kept_estimate(cfg: Any, rule: str) -> tuple[Tensor, list[int], dict[str, Any]]:
    """(T, anchor rows' global indices, the kept record) of Patrini et al.'s anchor points on the softmax the
    estimator kept of the network `rule` (one of KEPT) selects (repro/recorders/transition_estimate.py)."""
    config = to_container(cfg) if isinstance(cfg, DictConfig) else cfg
    rd = estimator_run(config)
    probs, rows, info = read_kept_probs(rd.path, rule, run_id=rd.run_id)
    percentile = config["method"].get("anchor_percentile", "auto")
    if percentile == "auto":  # their experiment.py: filter_outlier off for CIFAR-100, on for every other set
        percentile = default_percentile(int(config["data"]["num_classes"]))
    t, anchors = anchor_transition(
        probs, None if percentile is None else float(percentile), where=f"method.estimator={rd.run_id}"
    )
    return t, [int(rows[a]) for a in anchors], info


def planned_check(config: Mapping[str, Any], inputs: str) -> dict[str, Any] | None:
    """The check of the T a planned run of a kept rule will estimate (its declaration asks, where the estimator is
    finished and kept that network: repro/methods/declarations/loss_correction.py), from `inputs`, what of the config
    the estimate reads as JSON (the declaration's `estimate_inputs`: runs of one cell and seed share it, and the
    estimate is computed once); None where the estimator does not fit the run (the run itself then refuses to start,
    saying why)."""
    rule = str(config["method"]["estimate_at"])
    try:
        t, _, info = _cached_kept_estimate(inputs)
        return estimate_check_record(config, t, int(info["epoch"]), rule)
    except UserError:
        return None


@functools.lru_cache(maxsize=64)
def _cached_kept_estimate(inputs: str) -> tuple[Tensor, list[int], dict[str, Any]]:
    config = json.loads(inputs)
    return kept_estimate(config, str(config["method"]["estimate_at"]))


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
