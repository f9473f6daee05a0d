"""How much of the label noise a network has memorised, per epoch, for every method (Lukasik et al., ICML 2020:
smoothing helps under noise because it shrinks the logits, which tempers the memorisation of wrong labels).

On a run whose training labels carry noise, after each epoch the reported network (`method.eval_model`) is applied,
in eval mode and without augmentation, to the training images (batched, one host read per epoch), and the metrics
row gets:

- `memorised_noisy`: share of the noisy training samples (given label != true label) predicted as their given label;
- `recovered_noisy`: share of them predicted as their true label;
- `clean_train_acc`: accuracy on the clean training samples;
- `confidence`: mean max-probability over the evaluated training samples;
- `logit_norm`: mean L2 norm of their logits.

Cost: one eval forward per training image per epoch (about a third of a training step each; digits: negligible).
`memorisation_samples` (config, not in the run id) caps it: a fixed, seeded subset of that many training samples
(0: off; null: all).

With a held-out part the same pass also keeps what Patrini et al.'s T estimate needs of the networks its rules select,
and logs each epoch's estimate error `anchor_t_mae` and the loss on the held-out part's noisy labels
`noisy_val_loss` (one more eval forward per held-out image; repro/recorders/transition_estimate.py).
"""

from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import Tensor

from repro.data.noise import describes_noise
from repro.recorders.transition_estimate import EstimatorNetworks
from repro.training.evaluation import batched_outputs
from repro.training.protocols import Recorder, When

MEMORISATION_KEYS = ("memorised_noisy", "recovered_noisy", "clean_train_acc", "confidence", "logit_norm")


def memorisation_stats(logits: Tensor, given: Tensor, true: Tensor) -> dict[str, float]:
    """The five keys from logits (n, C) of training samples with their given and true labels (n,)."""
    logits = logits.float()
    pred = logits.argmax(dim=1)
    noisy = given != true
    return _finish(_sums(logits, pred, given, true, noisy))


def _sums(logits: Tensor, pred: Tensor, given: Tensor, true: Tensor, noisy: Tensor) -> Tensor:
    """Counts and sums on the device (read once): [noisy, memorised, recovered, clean, clean hits, sum of max-probs,
    sum of logit norms, n]."""
    clean = ~noisy
    counts = torch.stack(
        [
            noisy.sum(),
            (noisy & (pred == given)).sum(),
            (noisy & (pred == true)).sum(),
            clean.sum(),
            (clean & (pred == true)).sum(),
        ]
    ).to(torch.float64)
    sums = torch.stack([torch.softmax(logits, dim=1).amax(dim=1).sum(), logits.norm(dim=1).sum()]).to(torch.float64)
    n = torch.full((1,), float(len(pred)), dtype=torch.float64, device=logits.device)
    return torch.cat([counts, sums, n])


def _finish(totals: Tensor) -> dict[str, float]:
    noisy, memorised, recovered, clean, clean_hits, max_prob, norm, n = totals.cpu().tolist()
    nan = float("nan")
    return {
        "memorised_noisy": memorised / noisy if noisy else nan,
        "recovered_noisy": recovered / noisy if noisy else nan,
        "clean_train_acc": clean_hits / clean if clean else nan,
        "confidence": max_prob / n if n else nan,
        "logit_norm": norm / n if n else nan,
    }


def evaluated_rows(train_idx: Tensor, cap: int | None, seed: int) -> Tensor:
    """The training samples (global indices) evaluated each epoch: all, or a fixed seeded subset of `cap`."""
    if cap is None or cap >= len(train_idx):
        return train_idx
    order = torch.randperm(len(train_idx), generator=torch.Generator().manual_seed(seed))
    return train_idx[order[:cap].sort().values]


class MemorisationRecorder(Recorder):
    """Adds the five keys to every epoch's metrics row (so to metrics.jsonl, the checkpoint's history and W&B)."""

    records = (
        "memorised_noisy, recovered_noisy, clean_train_acc, confidence, logit_norm "
        "(and anchor_t_mae, noisy_val_loss) per epoch"
    )
    when = When.EVERY_EPOCH

    @classmethod
    def for_run(cls, exp: Any) -> list[Recorder]:
        """On a run whose training labels carry noise (and `memorisation_samples` is not 0)."""
        cap = exp.cfg.get("memorisation_samples")
        if cap == 0:
            return []
        noisy = exp.data.noisy_mask.cpu()[exp.data.train_idx.cpu()]
        if not bool(noisy.any()):
            return []
        return [cls(exp, None if cap is None else int(cap))]

    @classmethod
    def eval_images(cls, config: Mapping[str, Any], n_train: int, n_meta: int, n_test: int) -> int:
        """The images evaluated each epoch (0 without label noise or with `memorisation_samples=0`): the training
        images, and the held-out ones for the noisy held-out loss (repro/recorders/transition_estimate.py)."""
        cap = config.get("memorisation_samples")
        if cap == 0 or not describes_noise(config["noise"]):
            return 0
        return (n_train if cap is None else min(int(cap), n_train)) + n_meta

    def __init__(self, exp: Any, cap: int | None) -> None:
        rows = evaluated_rows(exp.data.train_idx.cpu(), cap, int(exp.cfg.seed))
        device = exp.data.train.images.device
        self.images_idx = rows.to(device)
        target_device = exp.hardware.device
        self.given = exp.data.train_targets.cpu()[rows].to(target_device)
        self.true = exp.data.train_true_targets.cpu()[rows].to(target_device)
        self.noisy = self.given != self.true
        # with a held-out part: what Patrini et al.'s estimate needs of the networks its rules select
        # (repro/recorders/transition_estimate.py)
        self.estimate = None
        if exp.data.meta_idx.numel():
            self.estimate = EstimatorNetworks(exp, rows)

    def on_epoch_end(self, exp: Any, epoch: int, row: dict[str, Any], tracker: Any) -> None:
        model = exp.method.eval_model(exp)
        images = exp.data.train.images[self.images_idx]
        parts = batched_outputs(model, images, lambda logits: logits.float(), **exp.eval_loader_kwargs)
        logits = torch.cat(parts)
        totals = _sums(logits, logits.argmax(dim=1), self.given, self.true, self.noisy)
        row.update(_finish(totals))
        if self.estimate is not None:
            self.estimate.update(exp, epoch, row, logits)
