"""The noisy setting's entropy-weighted curriculum (Sec. 3.5): each training sample's loss is weighted by the entropy
of its learned label. The paper says only "weighing each instance by the entropy of its label", which leaves two
readings open (docs/method.md, "Entropy-weighted curriculum"); both are options of the label methods:

    sign (method.curriculum_weight):  certainty  w_i = 1 - H(p_i) / log C   (falls with entropy: 1 one-hot, 0 uniform)
                                      entropy    w_i = H(p_i) / log C       (grows with entropy: 0 one-hot, 1 uniform)
    then                              w_i <- w_i * n / sum_j w_j             (mean 1 over the batch: loss scale and lr
                                                                              keep their meaning; all zero -> all ones)
    placement (method.curriculum_placement):
                                      model_step  the real model step only, from the labels the meta step just updated
                                      both        also the look-ahead of the meta step (repro.meta's sample_weight),
                                                  from the labels before that update

The weights are detached: they are a curriculum, not a path for gradients.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from repro.errors import UserError
from repro.labels import InstanceLabels

CURRICULA = ("none", "entropy")
SIGNS = ("certainty", "entropy")
PLACEMENTS = ("model_step", "both")


def entropy_weights(labels: Tensor, sign: str = "certainty") -> Tensor:
    """Batch-normalised curriculum weights (n,) of soft labels (n, C): `certainty` 1 - H / log C, `entropy` H / log C;
    all ones if every raw weight is zero (e.g. every row uniform under `certainty`)."""
    if sign not in SIGNS:
        raise UserError(f"method.curriculum_weight={sign!r} is not known; use one of {', '.join(SIGNS)}.")
    n, num_classes = labels.shape
    scaled = torch.special.entr(labels.detach().float()).sum(dim=1) / math.log(num_classes)
    weights = (1.0 - scaled if sign == "certainty" else scaled).clamp_min(0.0)
    total = weights.sum()
    # torch.where, not `if total > 0`: a Python branch on a GPU tensor is a host sync in every training step.
    normalised = torch.where(total > 0, weights * (n / total), torch.ones_like(weights))
    return normalised.to(labels.dtype)


def curriculum_weights(kind: str, labels, idx: Tensor, sign: str = "certainty") -> Tensor:
    """Per-sample loss weights (n,) of curriculum `kind` (with weight `sign`) for the batch rows `idx` of label
    parametrisation `labels` (repro.methods.learned_labels calls this around each meta step)."""
    if kind not in CURRICULA:
        raise UserError(f"method.curriculum={kind!r} is not known; use one of {', '.join(CURRICULA)}.")
    if kind == "none":
        return torch.ones(idx.shape[0], device=idx.device)
    if not isinstance(labels, InstanceLabels):
        raise UserError(
            f"method.curriculum=entropy weights each sample by the entropy of its own label, so it needs "
            f"instance labels (method=instance_labels), not {type(labels).__name__}."
        )
    with torch.no_grad():
        # Instance labels do not need the given labels y to produce their rows; idx stands in for them.
        return entropy_weights(labels.soft_labels(idx, idx), sign)
