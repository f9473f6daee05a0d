"""Statistics of a soft-label matrix (n, C) that the recorders write each epoch (repro/labels/recording.py): label
entropy, and with injected noise how far the learned labels undo it. Their keys are documented in docs/method.md."""

from __future__ import annotations

import torch
from torch import Tensor


def label_entropy(labels: Tensor) -> Tensor:
    """Entropy (nats) of each row of an (n, C) label matrix; 0 * log 0 = 0."""
    return torch.special.entr(labels).sum(dim=1)


def _share(mask: Tensor) -> float:
    return float(mask.float().mean()) if mask.numel() else float("nan")


def noise_correction_stats(labels: Tensor, given: Tensor, true: Tensor, noisy: Tensor) -> dict[str, float]:
    """How far learned labels (n, C) undo injected noise. `noisy`: the given label differs from the true one.

    noisy_top1_corrected: share of noisy samples whose label's top-1 is the true class; noisy_top5_corrected:
    whose top-5 holds it; noisy_top1_given: whose top-1 is still the wrong given class; clean_top1_damaged: share
    of clean samples whose top-1 moved away from the (correct) given class; label_noise_top1: share of all
    samples whose top-1 is wrong (the paper's "noise at top-1"); label_acc_top5: share of all samples whose top-5
    holds the true class (Figure 4's "top-5 accuracy", 65% -> 90%); mean label entropy of noisy and clean samples,
    and of the noisy samples not corrected at top-1 (uncorrected_label_entropy: the paper says the method lowers it,
    Sec. 3.5, which the entropy-weighted curriculum leans on).
    """
    top1 = labels.argmax(dim=1)
    top5 = labels.topk(min(5, labels.shape[1]), dim=1).indices
    entropy = label_entropy(labels)
    clean = ~noisy
    uncorrected = noisy & (top1 != true)
    return {
        "noisy_top1_corrected": _share(top1[noisy] == true[noisy]),
        "noisy_top5_corrected": _share((top5[noisy] == true[noisy].unsqueeze(1)).any(dim=1)),
        "noisy_top1_given": _share(top1[noisy] == given[noisy]),
        "clean_top1_damaged": _share(top1[clean] != given[clean]),
        "label_noise_top1": _share(top1 != true),
        "label_acc_top5": _share((top5 == true.unsqueeze(1)).any(dim=1)),
        "noisy_label_entropy": float(entropy[noisy].mean()) if noisy.any() else float("nan"),
        "clean_label_entropy": float(entropy[clean].mean()) if clean.any() else float("nan"),
        "uncorrected_label_entropy": float(entropy[uncorrected].mean()) if uncorrected.any() else float("nan"),
    }
