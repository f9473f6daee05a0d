"""Patrini et al.'s anchor-point estimate of T, read from a network that has not memorised the noise yet.

Patrini et al. (giorgiop/loss-correction) estimate T from their cross-entropy network at the epoch of lowest loss on a
held-out split of the training data (`models.py`: `ModelCheckpoint(monitor='val_loss', save_best_only=True)`,
reloaded after training), not from its final, noise-memorising state. Their noise is applied to the whole training
set before that split (`experiment.py`: noisify, then `validation_split=0.1`), so the held-out labels are noisy and
the selection uses no clean label.

A run keeps only its last checkpoint, so the network of that epoch is gone when a loss-correction run wants it.
Instead, every noisy run with a held-out part keeps what the estimate reads of it: the softmax of its training images
(the memorisation pass already computes their logits, repro/recorders/memorisation.py) at the epoch each rule selects,
in `<run>/estimate/` with the global indices of its rows (`rows.npy`). Two rules (`method.estimate_at` of a
loss-correction run; `final`, its last checkpoint, needs nothing kept):

- `noisy_val_loss`: Patrini et al.'s rule. The mean cross-entropy of the network on the held-out images against
  their *noisy* labels, the labels the run's noise model gives them (`RunData.all_noisy_targets`: CIFAR-N's human
  labels, the uniform model's own draw), whatever labels the held-out part carries in the run; the lowest wins, ties
  the earlier epoch (Keras keeps a checkpoint only on a strict improvement). No clean label is read. Logged per epoch
  as `noisy_val_loss`. Files `noisy_val_loss_probs.npy`, `noisy_val_loss.json`. Not matched: their `val_loss` adds
  Keras's L2 penalty on the weights, ours is the cross-entropy alone; their held-out split is 10% of the training data,
  ours the run's held-out part (2% with split=noisy); they estimate over every training image, the held-out ones
  included, we over the training part.
- `best_val`: the epoch of best validation accuracy (ties: the later epoch, as summary.json's best_val_epoch). On a
  clean held-out part (split.held_out_labels=clean) that selection reads those clean labels, which the
  loss-correction run then records as clean labels used (`selection_clean_labels`). Files `best_val_probs.npy`,
  `best_val.json`.

Each epoch the row also gets `anchor_t_mae`: the mean absolute difference between the anchor-point estimate of this
epoch's network (default percentile rule: 97, none with 100 classes or more) and the noise model's true T, so the
estimate's decline as the network memorises is a curve in metrics.jsonl and W&B.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from repro.data.noise.transition import anchor_transition, noise_transition
from repro.errors import UserError
from repro.recorders.transition_check import ESTIMATE_DIR, KEPT, kept_files
from repro.runs.io import atomic_save_npy, atomic_write_json
from repro.training.evaluation import batched_outputs


def default_percentile(num_classes: int) -> float | None:
    """Patrini et al.'s experiment.py: filter_outlier (97th percentile) on, except for CIFAR-100 (100 classes)."""
    return None if num_classes >= 100 else 97.0


def transition_mae(estimate: Tensor, true: Tensor) -> float:
    """Mean absolute difference between two C x C matrices (the estimate's error against the true T)."""
    return float((estimate.to(torch.float64) - true.to(torch.float64)).abs().mean())


class EstimatorNetworks:
    """Keeps, on disk, the training-set softmax of the epoch each rule selects; logs each epoch's estimate error and
    noisy held-out loss."""

    def __init__(self, exp: Any, rows: Tensor) -> None:
        self.dir = Path(exp.run_dir.path) / ESTIMATE_DIR
        self.rows = rows.cpu()
        data = exp.data
        self.true_t = noise_transition(
            exp.cfg.noise,
            data.num_classes,
            targets=data.train_true_targets,
            among=exp.data.train_idx,
            given=data.train_targets,
        )
        self.percentile = default_percentile(data.num_classes)
        self.held_out = exp.data.meta_idx.to(data.train.images.device)
        self.held_out_noisy = data.all_noisy_targets[exp.data.meta_idx.cpu()].to(exp.hardware.device)
        self.clean_validation = int(exp.data.meta_idx.numel()) if data.held_out_clean else 0
        self.best: dict[str, tuple[float, int]] = {}
        for rule in KEPT:  # a resumed run: the best so far (an epoch past the checkpoint is trained again)
            saved = self.dir / f"{rule}.json"
            if saved.exists():
                record = json.loads(saved.read_text())
                score = record.get("score", record.get("val_acc"))  # best_val.json kept before "score" was
                self.best[rule] = (float(score), int(record["epoch"]))

    def update(self, exp: Any, epoch: int, row: dict[str, Any], logits: Tensor) -> None:
        """After an epoch: `logits` are the reported network's on the kept training rows (the memorisation pass)."""
        probs = torch.softmax(logits.float(), dim=1).cpu()
        try:
            estimate, _ = anchor_transition(probs, self.percentile, where="the per-epoch anchor estimate")
            row["anchor_t_mae"] = transition_mae(estimate, self.true_t)
        except UserError:  # a class without an anchor point this epoch: no estimate, no error to log
            row["anchor_t_mae"] = float("nan")
        row["noisy_val_loss"] = self._noisy_held_out_loss(exp)
        scores = {"noisy_val_loss": -row["noisy_val_loss"]}  # higher is better, for both rules
        if row.get("val_acc") is not None:
            scores["best_val"] = float(row["val_acc"])
        for rule, score in scores.items():
            best = self.best.get(rule)
            if best is not None and best[1] >= epoch + 1:
                best = None  # resumed behind the saved best: re-decide from here (same epochs, same networks)
            later_wins = rule == "best_val"  # as summary.json's best_val_epoch; Keras's checkpoint keeps the earlier
            if best is None or score > best[0] or (later_wins and score == best[0]):
                self.best[rule] = (score, epoch + 1)
                self._keep(rule, probs, epoch + 1, score)

    def _noisy_held_out_loss(self, exp: Any) -> float:
        """Mean cross-entropy of the reported network on the held-out images against their noisy labels."""
        images = exp.data.train.images[self.held_out]
        parts = batched_outputs(
            exp.method.eval_model(exp), images, lambda logits: logits.float(), **exp.eval_loader_kwargs
        )
        logits = torch.cat(parts)
        return float(F.cross_entropy(logits.double(), self.held_out_noisy.to(logits.device), reduction="mean"))

    def _keep(self, rule: str, probs: Tensor, epoch: int, score: float) -> None:
        atomic_save_npy(self.dir / f"{rule}_probs.npy", probs.numpy().astype(np.float32))
        atomic_save_npy(self.dir / "rows.npy", self.rows.numpy().astype(np.int64))
        record = {"epoch": epoch, "score": score, "rows": int(len(self.rows))}
        if rule == "best_val":
            record.update(val_acc=score, selection_clean_labels=self.clean_validation)
        else:
            record.update(noisy_val_loss=-score, selection_clean_labels=0)
        atomic_write_json(self.dir / f"{rule}.json", record)


def read_kept_probs(run_path: str | Path, rule: str, *, run_id: str) -> tuple[Tensor, Tensor, dict]:
    """(softmax (N, C), global row indices (N,), {epoch, score, selection_clean_labels, ...}) a finished run kept of
    the network `rule` (one of KEPT) selects, or a UserError saying why there is none and what to do."""
    files = kept_files(run_path, rule)
    folder = files[0].parent
    if not all(f.exists() for f in files):
        raise UserError(
            f"method.estimate_at={rule} reads the estimator run's network at {SELECTED[rule]}, but run {run_id} kept "
            f"none ({folder} is missing or incomplete): only noisy runs with a held-out part (split=noisy or holdout) "
            "made since this record existed, with memorisation_samples not 0, keep it. Retrain the estimator "
            "(`repro train --rerun <its overrides>`), or use method.estimate_at=final (its final network, which may "
            "have memorised the noise)."
        )
    probs = torch.from_numpy(np.load(files[0], allow_pickle=False))
    rows = torch.from_numpy(np.load(files[1], allow_pickle=False))
    info = json.loads(files[2].read_text())
    if rule == "best_val" and "selection_clean_labels" not in info:  # kept before this was recorded: a clean split
        info["selection_clean_labels"] = None
    return probs, rows, info


SELECTED = {
    "best_val": "its best-validation epoch",
    "noisy_val_loss": "the epoch of its lowest loss on the held-out part's noisy labels",
}
