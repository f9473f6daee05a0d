"""The noisy setting's entropy-weighted curriculum (Sec. 3.5): each training sample's loss is weighted by how
confident its learned label is, so samples whose labels the meta-gradient has made uncertain (typically noisy
ones it could not correct) count less. The paper gives no formula; ours and the reasoning: docs/method.md.

    w_i = 1 - H(p_i) / log C          (1 for a one-hot label, 0 for the uniform one)
    w_i <- w_i * n / sum_j w_j        (mean 1 over the batch, so the loss scale and the lr keep their meaning)

The weights are detached (they are a curriculum, not a path for gradients) and enter both the meta-gradient's
look-ahead loss and the real model step (repro.meta's `sample_weight`).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from repro.errors import UserError

CURRICULA = ("none", "entropy")


def entropy_weights(labels: Tensor) -> Tensor:
    """Batch-normalised entropy weights (n,) of soft labels (n, C); all ones if every row is uniform."""
    n, num_classes = labels.shape
    entropy = torch.special.entr(labels.detach().float()).sum(dim=1)
    weights = (1.0 - entropy / math.log(num_classes)).clamp_min(0.0)
    total = weights.sum()
    # torch.where, not `if total > 0`: a Python branch on a GPU tensor is a host sync in every training step.
    normalised = torch.where(total > 0, weights * (n / total), torch.ones_like(weights))
    return normalised.to(labels.dtype)


def curriculum_weights(kind: str, labels, idx: Tensor) -> Tensor:
    """Per-sample loss weights (n,) of curriculum `kind` for the batch rows `idx` of label parametrisation
    `labels` (repro.experiment.Experiment.sample_weight calls this before each meta step)."""
    from repro.labels import InstanceLabels

    if kind not in CURRICULA:
        raise UserError(f"method.curriculum={kind!r} is not known; use one of {', '.join(CURRICULA)}.")
    if kind == "none":
        return torch.ones(idx.shape[0], device=idx.device)
    if not isinstance(labels, InstanceLabels):
        raise UserError(f"method.curriculum=entropy weights each sample by the entropy of its own label, so it needs "
                        f"instance labels (method=instance_labels), not {type(labels).__name__}.")
    with torch.no_grad():
        # Instance labels do not need the given labels y to produce their rows; idx stands in for them.
        return entropy_weights(labels.soft_labels(idx, idx))
