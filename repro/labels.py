"""Label parametrisations: each turns a batch's given labels into soft labels p (n, C) and, when learned,
takes the meta-gradient dL_meta/dp of those rows, applies the chain rule to its own parameters and makes
a plain SGD step (the paper's Eq. 5; no momentum, no weight decay, no schedule).

Kinds: one-hot, fixed label smoothing, class labels (per-class alpha), instance labels (per-sample
logits, sparse row updates) and replayed trajectories (fold-averaged labels of a finished run).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from repro.errors import UserError
from repro.hardware import index_add_rows_
from repro.losses import one_hot, smoothed_targets


class NonFiniteLabelsError(FloatingPointError):
    """A label update produced NaN or inf; the training loop treats it like a NaN loss (run failed)."""


def _check_num_classes(num_classes: int) -> None:
    if int(num_classes) != num_classes or num_classes < 2:
        raise UserError(f"Soft labels need at least 2 classes (an integer), got num_classes={num_classes}.")


def _check_lr(lr: float) -> None:
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise UserError(f"The label learning rate must be a finite number > 0, got lr={lr!r}.")


def _check_grad_shape(grad_p: Tensor, y: Tensor, num_classes: int) -> None:
    if grad_p.shape != (y.shape[0], num_classes):
        raise UserError(
            f"The meta-gradient must have shape (batch, C) = ({y.shape[0]}, {num_classes}), "
            f"got {tuple(grad_p.shape)}."
        )


def _raise_if_not_finite(values: Tensor, what: str) -> None:
    # CPU only: on a GPU the check is a host sync per meta step. There a non-finite label makes the same step's
    # loss non-finite, which the loop's running totals catch (repro/steptotals.py) before the epoch's checkpoint.
    if values.device.type == "cpu" and not bool(torch.isfinite(values).all()):
        raise NonFiniteLabelsError(
            f"The {what} became NaN or infinite after a meta-gradient step; the labels were left at their "
            "last finite values. Lower the label learning rate or the model learning rate."
        )


class LabelParametrisation:
    """The interface the training loop and repro.meta rely on (see docs/architecture.md)."""

    learnable: bool = False
    num_classes: int

    def soft_labels(self, idx: Tensor, y: Tensor) -> Tensor:
        """Soft labels (n, C) for the batch rows `idx` (global sample indices) with given labels `y`."""
        raise NotImplementedError

    def apply_meta_gradient(self, idx: Tensor, y: Tensor, grad_p: Tensor) -> None:
        """Chain rule from dL_meta/dp (n, C) to the own parameters, then one SGD step."""
        raise RuntimeError(f"{type(self).__name__} has no learnable parameters; it takes no meta-gradient.")

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass

    def to(self, device: torch.device | str) -> "LabelParametrisation":
        """Move the parameters (if any) to `device`; returns self."""
        return self


class OneHotLabels(LabelParametrisation):
    """The baseline: fixed one-hot targets."""

    def __init__(self, num_classes: int, dtype: torch.dtype = torch.float32) -> None:
        _check_num_classes(num_classes)
        self.num_classes = int(num_classes)
        self.dtype = dtype

    def soft_labels(self, idx: Tensor, y: Tensor) -> Tensor:
        return one_hot(y, self.num_classes, self.dtype)


class SmoothedLabels(LabelParametrisation):
    """Fixed label smoothing, Szegedy et al.'s convention (see repro.losses.smoothed_targets)."""

    def __init__(self, num_classes: int, epsilon: float, dtype: torch.dtype = torch.float32) -> None:
        _check_num_classes(num_classes)
        if not 0.0 <= epsilon <= 1.0:
            raise UserError(f"Label smoothing epsilon must lie in [0, 1], got {epsilon}.")
        self.num_classes = int(num_classes)
        self.epsilon = float(epsilon)
        self.dtype = dtype

    def soft_labels(self, idx: Tensor, y: Tensor) -> Tensor:
        return smoothed_targets(y, self.num_classes, self.epsilon, self.dtype)


class ClassLabels(LabelParametrisation):
    """The paper's class labels (Sec. 2.1): one smoothing parameter alpha_c per class, clamped to [0, 1];
    p = 1 - alpha_y on the target and alpha_y / (C - 1) on every other class.

    `init_target_prob` sets alpha = 1 - init for every class. Any init in (0, 1] is accepted, including
    init < 1/C (the target then starts with less mass than each other class): the clamp to [0, 1] that the
    paper uses lets alpha reach that region during training anyway, so the init may start there too.
    """

    learnable = True

    def __init__(
        self, num_classes: int, init_target_prob: float, lr: float, dtype: torch.dtype = torch.float32
    ) -> None:
        _check_num_classes(num_classes)
        if not 0.0 < init_target_prob <= 1.0:
            raise UserError(
                f"Class labels need an initial target probability in (0, 1], got {init_target_prob}; "
                "the paper searches {0.3, 0.5, 0.7, 0.9}."
            )
        _check_lr(lr)
        self.num_classes = int(num_classes)
        self.lr = float(lr)
        self.alpha = torch.full((self.num_classes,), 1.0 - float(init_target_prob), dtype=dtype)

    def soft_labels(self, idx: Tensor, y: Tensor) -> Tensor:
        y = y.to(self.alpha.device)
        a = self.alpha[y].unsqueeze(1)
        p = (a / (self.num_classes - 1)).expand(-1, self.num_classes).clone()
        p.scatter_(1, y.unsqueeze(1), 1.0 - a)
        return p

    def alpha_gradient(self, y: Tensor, grad_p: Tensor) -> Tensor:
        """dL/dalpha (C,) from dL/dp (n, C): per row dp/dalpha_y is -1 on the target and 1/(C-1)
        elsewhere; rows of the same class add up."""
        _check_grad_shape(grad_p, y, self.num_classes)
        y = y.to(self.alpha.device)
        grad_p = grad_p.to(self.alpha)
        on_target = grad_p.gather(1, y.unsqueeze(1)).squeeze(1)
        off_target = grad_p.sum(dim=1) - on_target
        per_row = off_target / (self.num_classes - 1) - on_target
        return torch.zeros_like(self.alpha).index_add_(0, y, per_row)

    def apply_meta_gradient(self, idx: Tensor, y: Tensor, grad_p: Tensor) -> None:
        new_alpha = (self.alpha - self.lr * self.alpha_gradient(y, grad_p)).clamp_(0.0, 1.0)
        _raise_if_not_finite(new_alpha, "class-label smoothing parameters")
        self.alpha = new_alpha

    def target_probabilities(self) -> Tensor:
        """The target-class probability 1 - alpha_c of every class (C,), for logging trajectories."""
        return 1.0 - self.alpha

    def state_dict(self) -> dict[str, Any]:
        return {"alpha": self.alpha.clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        alpha = state["alpha"]
        if alpha.shape != self.alpha.shape:
            raise UserError(
                f"The saved class labels have shape {tuple(alpha.shape)} but this run has "
                f"{self.num_classes} classes; the checkpoint belongs to another configuration."
            )
        self.alpha = alpha.to(self.alpha).clone()

    def to(self, device: torch.device | str) -> "ClassLabels":
        self.alpha = self.alpha.to(device)
        return self


class InstanceLabels(LabelParametrisation):
    """The paper's instance labels (Sec. 2.2): per-sample logits z (N, C), p = softmax(z[idx]).

    Initialised to log p0 with p0 = init on the given target and (1 - init)/(C - 1) elsewhere, so that the
    softmax starts exactly at p0. init must lie in (0, 1): init = 1 would put log 0 = -inf in z, and rows
    at -inf never move. Updates are sparse: only the batch's rows change (no decay or momentum elsewhere).
    """

    learnable = True

    def __init__(
        self,
        num_samples: int,
        num_classes: int,
        targets: Tensor,
        init_target_prob: float,
        lr: float,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        _check_num_classes(num_classes)
        if not 0.0 < init_target_prob < 1.0:
            raise UserError(
                f"Instance labels need an initial target probability strictly between 0 and 1, got "
                f"{init_target_prob}; 1 would make the non-target logits -inf (they could never learn). "
                "The paper searches {0.3, 0.5, 0.7, 0.9}."
            )
        _check_lr(lr)
        targets = torch.as_tensor(targets)
        if targets.shape != (num_samples,):
            raise UserError(
                f"Instance labels need one target per training sample: expected shape ({num_samples},), "
                f"got {tuple(targets.shape)}."
            )
        self.num_samples = int(num_samples)
        self.num_classes = int(num_classes)
        self.lr = float(lr)
        off = math.log((1.0 - init_target_prob) / (num_classes - 1))
        p0 = one_hot(targets.long(), self.num_classes, dtype)
        self.logits = p0 * (math.log(init_target_prob) - off) + off

    def soft_labels(self, idx: Tensor, y: Tensor) -> Tensor:
        return F.softmax(self.logits[idx.to(self.logits.device)], dim=1)

    def logit_gradient(self, idx: Tensor, grad_p: Tensor) -> Tensor:
        """dL/dz for the batch rows (n, C) through the softmax: p * (g - <p, g>)."""
        p = F.softmax(self.logits[idx.to(self.logits.device)], dim=1)
        grad_p = grad_p.to(p)
        return p * (grad_p - (p * grad_p).sum(dim=1, keepdim=True))

    def apply_meta_gradient(self, idx: Tensor, y: Tensor, grad_p: Tensor) -> None:
        _check_grad_shape(grad_p, idx, self.num_classes)
        step = self.logit_gradient(idx, grad_p).mul_(-self.lr)
        _raise_if_not_finite(step, "instance-label logits")
        # Touches the batch rows only and sums the steps of a sample drawn twice (deterministically on CUDA when
        # deterministic algorithms are on).
        index_add_rows_(self.logits, idx.to(self.logits.device), step)

    def probabilities(self) -> Tensor:
        """All soft labels (N, C), e.g. for label snapshots and noise-correction rates."""
        return F.softmax(self.logits, dim=1)

    def state_dict(self) -> dict[str, Any]:
        return {"logits": self.logits.clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        logits = state["logits"]
        if logits.shape != self.logits.shape:
            raise UserError(
                f"The saved instance labels have shape {tuple(logits.shape)} but this run needs "
                f"{tuple(self.logits.shape)}; the checkpoint belongs to another configuration."
            )
        self.logits = logits.to(self.logits).clone()

    def to(self, device: torch.device | str) -> "InstanceLabels":
        self.logits = self.logits.to(device)
        return self


class ReplayLabels(LabelParametrisation):
    """Replays a stored label trajectory (Sec. 3.1: the final model trains on fold-averaged labels):
    epoch e's labels at epoch e, or, with static=True (Table 3), the last epoch's labels throughout.

    `trajectory(e)` returns the (N, C) labels of epoch e, for e in [0, num_epochs).
    """

    def __init__(
        self,
        trajectory: Callable[[int], Tensor],
        num_epochs: int,
        static: bool = False,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        if not callable(trajectory):
            raise UserError("ReplayLabels needs a function epoch -> (N, C) label tensor.")
        if int(num_epochs) != num_epochs or num_epochs < 1:
            raise UserError(f"A replayed label trajectory needs at least one epoch, got num_epochs={num_epochs}.")
        self.trajectory = trajectory
        self.num_epochs = int(num_epochs)
        self.static = bool(static)
        self.dtype = dtype
        self.device = torch.device("cpu")
        self.epoch = 0
        self._loaded_epoch: int | None = None
        self._labels: Tensor | None = None

    def source_epoch(self) -> int:
        """The trajectory epoch whose labels are served now."""
        return self.num_epochs - 1 if self.static else self.epoch

    def set_epoch(self, epoch: int) -> None:
        if not 0 <= epoch < self.num_epochs and not self.static:
            raise UserError(
                f"The replayed label trajectory has epochs 0..{self.num_epochs - 1} but epoch {epoch} was "
                "requested; train the final model for as many epochs as the runs that learned the labels, "
                "or replay the static (last-epoch) labels."
            )
        self.epoch = int(epoch)

    def _current(self) -> Tensor:
        source = self.source_epoch()
        if self._loaded_epoch != source:
            labels = torch.as_tensor(self.trajectory(source)).to(device=self.device, dtype=self.dtype)
            if labels.dim() != 2 or not bool(torch.isfinite(labels).all()) or bool((labels < 0).any()):
                raise UserError(
                    f"The replayed labels of epoch {source} must be a finite, non-negative (N, C) matrix; "
                    f"got shape {tuple(labels.shape)}. The trajectory files may be corrupt."
                )
            self._labels, self._loaded_epoch = labels, source
        assert self._labels is not None
        return self._labels

    def soft_labels(self, idx: Tensor, y: Tensor) -> Tensor:
        labels = self._current()
        return labels[idx.to(labels.device)]

    def to(self, device: torch.device | str) -> "ReplayLabels":
        """Serve labels on `device` (loaded there lazily, one epoch at a time)."""
        self.device = torch.device(device)
        self._loaded_epoch, self._labels = None, None
        return self

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.set_epoch(int(state["epoch"]))


LABEL_KINDS = ("onehot", "smoothing", "class", "instance", "replay")

_KIND_OPTIONS: dict[str, tuple[str, ...]] = {
    "onehot": (),
    "smoothing": ("epsilon",),
    "class": ("init_target_prob", "lr"),
    "instance": ("init_target_prob", "lr"),
    "replay": ("trajectory", "num_epochs", "static"),
}


def build_labels(
    kind: str,
    *,
    num_samples: int,
    num_classes: int,
    targets: Tensor,
    dtype: torch.dtype = torch.float32,
    **cfg: Any,
) -> LabelParametrisation:
    """Build a label parametrisation by name; `cfg` holds exactly that kind's options."""
    if kind not in _KIND_OPTIONS:
        raise UserError(f"Unknown label kind {kind!r}; choose one of: {', '.join(LABEL_KINDS)}.")
    allowed = _KIND_OPTIONS[kind]
    unknown = sorted(set(cfg) - set(allowed))
    if unknown:
        raise UserError(
            f"Label kind {kind!r} does not take the option(s) {', '.join(unknown)}; "
            f"it takes: {', '.join(allowed) or 'no options'}."
        )
    missing = [k for k in allowed if k not in cfg and k != "static"]
    if missing:
        raise UserError(f"Label kind {kind!r} needs the option(s): {', '.join(missing)}.")
    if kind == "onehot":
        return OneHotLabels(num_classes, dtype=dtype)
    if kind == "smoothing":
        return SmoothedLabels(num_classes, cfg["epsilon"], dtype=dtype)
    if kind == "class":
        return ClassLabels(num_classes, cfg["init_target_prob"], cfg["lr"], dtype=dtype)
    if kind == "instance":
        return InstanceLabels(num_samples, num_classes, targets, cfg["init_target_prob"], cfg["lr"], dtype=dtype)
    return ReplayLabels(cfg["trajectory"], cfg["num_epochs"], static=cfg.get("static", False), dtype=dtype)
