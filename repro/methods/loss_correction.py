"""Loss correction (Patrini et al., "Making Deep Neural Networks Robust to Label Noise: a Loss Correction
Approach", CVPR 2017; public code giorgiop/loss-correction): the cross-entropy on the given (noisy) labels,
corrected with the noise's transition matrix T (T[i, j] = P(given j | true i); repro/data/noise/transition.py).

- forward:  -log (p^T T)_y, the model's clean posterior p pushed through the noise (their `robust('forward')`);
- backward: (T^-1 l(p))_y with l(p)_j = -log p_j, an unbiased estimate of the clean loss (`robust('backward')`),
  with p clipped to [1e-7, 1 - 1e-7] before the log as their Keras code clips it (`method.probability_clip`):
  T^-1 has negative entries, and without the clip the loss falls without end as a logit margin grows.

T is the run's noise model's (`transition=known`), Patrini et al.'s anchor-point estimate from a finished run trained
on the same noisy labels (`transition=estimated`, `method.estimator` names it; a sweep row's `teacher:` sets it), or
a matrix given in the config (`transition=given`). Settings and sources: docs/methods/loss_correction.md.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import Tensor

from repro.data.noise.transition import anchor_transition, check_transition, noise_transition
from repro.errors import UserError
from repro.losses import clipped_log_softmax
from repro.methods.base import Method, StepOutput, optimizer_step
from repro.methods.declarations.loss_correction import LossCorrectionDeclaration
from repro.methods.estimated_transition import (
    TransitionRecord,
    check_estimate,
    estimator_run,
    kept_estimate,
)
from repro.methods.same_training import known_symmetric_transition, smearing_form
from repro.recorders.transition_estimate import KEPT, default_percentile, read_kept_probs
from repro.runs.teachers import load_teacher
from repro.training.clean_labels import ESTIMATOR_SELECTION, CleanLabelUse, known_transition_use
from repro.training.evaluation import softmax_outputs


def forward_corrected_loss(logits: Tensor, y: Tensor, t: Tensor) -> Tensor:
    """Mean over the batch of -log sum_i p_i T[i, y], p = softmax(logits), computed as a logsumexp of log p_i +
    log T[i, y] (exact where p is tiny; a zero of T is -inf there and drops out). Their Keras code clips p to
    [1e-7, 1 - 1e-7] before p @ T (loss.py `robust('forward')`); the two agree wherever the clip is inactive, and the
    forward loss needs no clip to be bounded: it is at least 0."""
    log_p = F.log_softmax(_at_least_fp32(logits), dim=1)  # (n, C)
    log_t = torch.log(t.to(log_p))[:, y].T  # (n, C): log T[i, y_n]
    return -torch.logsumexp(log_p + log_t, dim=1).mean()


def backward_corrected_loss(logits: Tensor, y: Tensor, t_inv: Tensor, *, clip: float | None) -> Tensor:
    """Mean over the batch of -sum_j T^-1[y, j] log p_j: for every true class, its expectation over the given
    labels drawn from T is the clean cross-entropy -log p_true (Patrini et al., Theorem 1).

    p is clipped to [clip, 1 - clip] before the log (repro.losses.clipped_log_softmax), as Patrini et al.'s Keras
    code does (giorgiop/loss-correction, loss.py `robust('backward')`: K.clip(y_pred, K.epsilon(), 1 - K.epsilon()),
    K.epsilon() = 1e-7). T^-1's off-diagonal entries are negative, so without the clip the loss keeps falling as a
    logit margin grows (C = 10, T = 0.8 I + 0.02 J: -4.50 at margin 20, -36.0 at 160); with it the loss is flat
    (-3.63) once every wrong class's p is below 1e-7, and equal to the unclipped loss inside the clip (the
    theorem's unbiasedness holds there). clip=None: the unclipped loss of runs trained before the clip; the method
    passes `method.probability_clip`, 1e-7 by default (repro/conf/method/loss_correction.yaml)."""
    log_p = clipped_log_softmax(_at_least_fp32(logits), clip)
    return -(t_inv.to(log_p)[y] * log_p).sum(dim=1).mean()


def _at_least_fp32(logits: Tensor) -> Tensor:
    """bf16 logits (autocast) are scored in fp32; fp64 stays fp64."""
    return logits.to(torch.promote_types(logits.dtype, torch.float32))


class LossCorrection(Method, declaration=LossCorrectionDeclaration):
    """One forward, the corrected cross-entropy on the given labels, one optimizer step."""

    @classmethod
    def training_form(cls, config: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The backward correction is the smearing family's member M = T^-1 (with its clip), whenever the config alone
        fixes T (a known T of symmetric noise, or a given one); the forward correction is a loss of its own."""
        method = config["method"]
        if method.get("correction") != "backward":
            return None
        transition = method.get("transition")
        t = known_symmetric_transition(config) if transition == "known" else method.get("matrix")
        if transition == "estimated" or t is None:
            return None
        inverse = torch.linalg.inv(torch.as_tensor(t, dtype=torch.float64))
        return smearing_form(inverse, clip=method.get("probability_clip"))

    @classmethod
    def source_run(cls, cfg: DictConfig | Mapping[str, Any]):
        """The run this one reads (its estimator: transition=estimated), as the students' `source_run`."""
        return estimator_run(cfg)

    @classmethod
    def check_ready(cls, cfg: DictConfig) -> None:
        """Before anything is written: the known T exists (a noise model), the estimator run is finished and fits."""
        if cfg.method.transition == "known":
            noise_transition(cfg.noise, int(cfg.data.num_classes))
        elif cfg.method.transition == "estimated":
            rd = estimator_run(cfg)
            if cfg.method.get("estimate_at", "final") in KEPT:
                read_kept_probs(rd.path, str(cfg.method.estimate_at), run_id=rd.run_id)
        else:
            check_transition(
                cfg.method.matrix,
                int(cfg.data.num_classes),
                where="method.matrix",
                invertible=cfg.method.correction == "backward",
            )

    def __init__(self, cfg: DictConfig, exp) -> None:
        super().__init__(cfg, exp)
        self.correction, self.transition = self.options.correction, self.options.transition
        num_classes = exp.data.num_classes
        self.anchors: list[int] = []
        self.estimator_id: str | None = None
        self.estimate_at, self.estimator_epoch = None, None
        self.selection_clean_labels = 0  # clean labels the estimator's epoch was selected on
        if self.transition == "known":
            t = noise_transition(
                exp.cfg.noise,
                num_classes,
                targets=exp.data.train_true_targets,
                among=exp.data.train_idx,
                given=exp.data.train_targets,
            )
            where = f"the noise model's T (noise.kind={exp.cfg.noise.kind})"
        elif self.transition == "given":
            t, where = self.options.matrix, "method.matrix"
        else:
            t, where = self._estimate(exp), f"the anchor-point estimate of run {self.estimator_id}"
        self.t = check_transition(t, num_classes, where=where, invertible=self.correction == "backward")
        target = self.t if self.correction == "forward" else torch.linalg.inv(self.t)
        self.matrix = target.to(device=exp.hardware.device, dtype=torch.float32)  # T (forward) or T^-1 (backward)
        self.t_true = _true_transition(exp)
        # an estimated T: where it came from and whether to trust it, recorded and said before the first epoch
        self.estimate_check = check_estimate(self, exp) if self.estimator_id is not None else None

    def clean_label_uses(self, exp) -> list:
        """Besides the held-out part: a known T of a file noise model (CIFAR-N) is counted from the training part's
        clean labels (a synthetic model's T comes from its parameters, no labels); an estimator's network picked on
        clean validation labels (estimate_at=best_val) used those."""
        uses = super().clean_label_uses(exp) + (known_transition_use(exp) if self.transition == "known" else [])
        if self.selection_clean_labels:  # estimate_at=best_val on a clean held-out part: picked on clean labels
            uses.append(CleanLabelUse(ESTIMATOR_SELECTION, self.selection_clean_labels))
        return uses

    def _estimate(self, exp) -> Tensor:
        """Patrini et al.'s anchor points from the estimator's softmax over the training images: of its final network
        (estimate_at=final, recomputed here), or of the network a rule selected (kept by that run)."""
        rd = estimator_run(exp.cfg)
        self.estimator_id = rd.run_id
        self.estimate_at = self.options.estimate_at
        if self.estimate_at in KEPT:
            t, self.anchors, info = kept_estimate(exp.cfg, self.estimate_at)
            self.estimator_epoch = int(info["epoch"])
            count = info["selection_clean_labels"]
            self.selection_clean_labels = int(rd.read_summary()["num_meta"] if count is None else count)
            return t
        teacher = load_teacher(rd, exp.hardware.device, role="estimator run")
        model = exp.hardware.prepare_model(teacher) if exp.hardware else teacher
        images = exp.data.train.images[exp.data.train_idx.to(exp.data.train.images.device)]
        probs, rows = softmax_outputs(model, images, **exp.eval_loader_kwargs), exp.data.train_idx.cpu()
        percentile = self.options.anchor_percentile
        if percentile == "auto":  # their experiment.py: filter_outlier off for CIFAR-100, on for every other set
            percentile = default_percentile(exp.data.num_classes)
        t, anchors = anchor_transition(
            probs, None if percentile is None else float(percentile), where=f"method.estimator={rd.run_id}"
        )
        self.anchors = [int(rows[a]) for a in anchors]
        return t

    def train_step(self, exp, x: Tensor, y: Tensor, idx: Tensor) -> StepOutput:
        logits = exp.model(x)
        if self.correction == "forward":
            loss = forward_corrected_loss(logits, y, self.matrix)
        else:
            loss = backward_corrected_loss(logits, y, self.matrix, clip=self.options.probability_clip)
        optimizer_step(exp.optim.optimizer, loss, epoch=exp.epoch)
        return StepOutput(loss.detach(), logits.detach())

    def recorders(self, exp) -> list:
        return [TransitionRecord(self)]


def _true_transition(exp) -> Tensor | None:
    """The noise model's T, to score an estimate or a given matrix against; None on clean data."""
    try:
        return noise_transition(
            exp.cfg.noise,
            exp.data.num_classes,
            targets=exp.data.train_true_targets,
            among=exp.data.train_idx,
            given=exp.data.train_targets,
        )
    except UserError:
        return None
