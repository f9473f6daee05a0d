"""Patrini et al.'s anchor-point estimate of T, read from a network that has not memorised the noise yet.

Patrini et al. estimate T from their cross-entropy network at its best held-out epoch (Keras
`ModelCheckpoint(save_best_only=True)`), not from its final, noise-memorising state. A run keeps only its last
checkpoint, so the network of the best-validation epoch is gone when a loss-correction run wants it. Instead, every
noisy run with a validation set (the clean meta split) keeps what the estimate reads of that network: the softmax of
the training images (the memorisation pass already computes their logits, repro/methods/memorisation.py) at its
best-validation epoch so far (ties: the later epoch, as summary.json's best_val_epoch), written to
`<run>/estimate/best_val_probs.npy` (float32, N x C) with the global indices of its rows (`rows.npy`) and
`best_val.json` (epoch, val_acc). A loss-correction run with `method.estimate_at=best_val` reads them
(repro/methods/loss_correction.py); `final` keeps the estimate from the last checkpoint's network.

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
from torch import Tensor

from repro.errors import UserError
from repro.methods.transition import anchor_transition, noise_transition
from repro.runs.io import atomic_save_npy, atomic_write_json

ESTIMATE_DIR = "estimate"


def default_percentile(num_classes: int) -> float | None:
    """Patrini et al.'s experiment.py: filter_outlier (97th percentile) on, except for CIFAR-100 (100 classes)."""
    return None if num_classes >= 100 else 97.0


def transition_mae(estimate: Tensor, true: Tensor) -> float:
    """Mean absolute difference between two C x C matrices (the estimate's error against the true T)."""
    return float((estimate.to(torch.float64) - true.to(torch.float64)).abs().mean())


class BestValProbs:
    """Keeps the best-validation epoch's training-set softmax on disk, and logs each epoch's estimate error."""

    def __init__(self, exp: Any, rows: Tensor) -> None:
        self.dir = Path(exp.run_dir.path) / ESTIMATE_DIR
        self.rows = rows.cpu()
        self.true_t = noise_transition(
            exp.cfg.noise,
            exp.data.num_classes,
            targets=exp.data.train_true_targets,
            among=exp.train_idx,
            given=exp.data.train_targets,
        )
        self.percentile = default_percentile(exp.data.num_classes)
        self.best: tuple[float, int] | None = None
        saved = self.dir / "best_val.json"
        if saved.exists():  # a resumed run: the best so far (an epoch past the checkpoint is trained again)
            record = json.loads(saved.read_text())
            self.best = (float(record["val_acc"]), int(record["epoch"]))

    def update(self, epoch: int, row: dict[str, Any], logits: Tensor) -> None:
        probs = torch.softmax(logits.float(), dim=1).cpu()
        try:
            estimate, _ = anchor_transition(probs, self.percentile, where="the per-epoch anchor estimate")
            row["anchor_t_mae"] = transition_mae(estimate, self.true_t)
        except UserError:  # a class without an anchor point this epoch: no estimate, no error to log
            row["anchor_t_mae"] = float("nan")
        val = row.get("val_acc")
        if val is None:
            return
        if self.best is not None and self.best[1] >= epoch + 1:
            self.best = None  # resumed behind the saved best: re-decide from here (same epochs, same networks)
        if self.best is None or (float(val), epoch + 1) >= self.best:
            self.best = (float(val), epoch + 1)
            atomic_save_npy(self.dir / "best_val_probs.npy", probs.numpy().astype(np.float32))
            atomic_save_npy(self.dir / "rows.npy", self.rows.numpy().astype(np.int64))
            atomic_write_json(
                self.dir / "best_val.json", {"epoch": epoch + 1, "val_acc": float(val), "rows": int(len(self.rows))}
            )


def read_best_val_probs(run_path: str | Path, *, run_id: str) -> tuple[Tensor, Tensor, dict]:
    """(softmax (N, C), global row indices (N,), {epoch, val_acc}) a finished run kept of its best-validation
    network, or a UserError saying why there is none and what to do."""
    folder = Path(run_path) / ESTIMATE_DIR
    files = [folder / "best_val_probs.npy", folder / "rows.npy", folder / "best_val.json"]
    if not all(f.exists() for f in files):
        raise UserError(
            f"method.estimate_at=best_val reads the estimator run's network at its best-validation epoch, but run "
            f"{run_id} kept none ({folder} is missing or incomplete): only noisy runs with a validation set "
            "(split=noisy or holdout) made since this record existed, with memorisation_samples not 0, keep it. "
            "Retrain the estimator (`repro train --rerun <its overrides>`), or use method.estimate_at=final (its "
            "final network, which may have memorised the noise)."
        )
    probs = torch.from_numpy(np.load(files[0], allow_pickle=False))
    rows = torch.from_numpy(np.load(files[1], allow_pickle=False))
    return probs, rows, json.loads(files[2].read_text())
