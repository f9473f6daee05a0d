"""Label smearing (Lukasik, Bhojanapalli, Menon, Kumar, "Does label smoothing mitigate label noise?", ICML 2020,
Sec. 3): one family of losses that holds label smoothing and backward loss correction.

With l(f(x)) = (-log p_1, ..., -log p_C) the vector of per-class losses and a C x C smearing matrix M, the smeared
loss of a sample with given label y is (M l)_y = -sum_j M[y, j] log p_j: the soft cross-entropy against the row
M[y], which may hold negative entries. Named members (`method.smearing`):

- `identity`:  M = I, the plain cross-entropy;
- `smoothing`: M = (1 - eps) I + eps/C J (J all ones), label smoothing with targets (1 - eps) onehot + eps/C, for any
  eps <= 1, negative included (`method.smoothing_epsilon`);
- `backward`:  M = T^-1, Patrini et al.'s backward correction (T: the run's noise model, or `method.matrix`).

Why a method of its own rather than a wider `label_smoothing`: its targets leave the simplex (the label
parametrisations' contract, repro/labels/base.py), and for any M with a negative entry (negative smoothing, backward
correction) the raw loss is unbounded below: p_j -> 0 for a class with a negative weight drives it to -inf. Such
members are therefore bounded as Patrini et al. bound their backward correction (giorgiop/loss-correction, loss.py
`robust('backward')`: p clipped to [1e-7, 1 - 1e-7] before the log, K.epsilon() = 1e-7): `method.probability_clip`,
1e-7 by default wherever M has a negative entry (repro/conf/method/label_smearing.yaml), null for identity and
eps >= 0, whose losses are bounded by themselves and stay the plain / smoothed cross-entropy. For symmetric noise,
T = (1 - f) I + f/C J, T^-1 = (1 - eps) I + eps/C J with eps = -f / (1 - f): the backward correction is negative
smoothing, clip included (docs/methods/label_smearing.md; tests/methods/test_label_smearing.py checks it in float64).
"""

from __future__ import annotations

from typing import Any, Mapping

import torch
from omegaconf import DictConfig
from torch import Tensor

from repro.data.noise.transition import check_transition, noise_transition
from repro.losses import clipped_log_softmax
from repro.methods.base import Method, StepOutput, optimizer_step
from repro.methods.declarations.label_smearing import LabelSmearingDeclaration
from repro.methods.same_training import known_symmetric_transition, smearing_form
from repro.training.clean_labels import known_transition_use
from repro.training.protocols import Recorder, When


def smoothing_matrix(num_classes: int, epsilon: float, dtype: torch.dtype = torch.float64) -> Tensor:
    """M = (1 - eps) I + eps/C J: row y is the smoothed target (1 - eps) onehot(y) + eps/C (any real eps)."""
    eye = torch.eye(num_classes, dtype=dtype)
    return (1.0 - epsilon) * eye + epsilon / num_classes


def backward_epsilon(fraction: float) -> float:
    """The smoothing eps whose matrix is T^-1 for symmetric noise T = (1 - f) I + f/C J: eps = -f / (1 - f)."""
    return -fraction / (1.0 - fraction)


def smeared_loss(logits: Tensor, y: Tensor, matrix: Tensor, *, clip: float | None) -> Tensor:
    """Mean over the batch of (M l(f(x)))_y = -sum_j M[y, j] log softmax(logits)_j (bf16 logits scored in fp32,
    fp64 stays fp64), each log p_j clipped to [log clip, log(1 - clip)] when `clip` is given: Patrini et al.'s bound
    (repro.losses.clipped_log_softmax), flat beyond the clip and equal to the unclipped loss inside it."""
    log_p = clipped_log_softmax(logits.to(torch.promote_types(logits.dtype, torch.float32)), clip)
    return -(matrix.to(log_p)[y] * log_p).sum(dim=1).mean()


class LabelSmearing(Method, declaration=LabelSmearingDeclaration):
    """One forward, the smeared cross-entropy on the given labels, one optimizer step."""

    @classmethod
    def training_form(cls, config: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """Its matrix and clip, whenever the config alone fixes the matrix (a known T of data-dependent noise does
        not)."""
        method, classes = config["method"], int(config["data"]["num_classes"])
        member, clip = method.get("smearing"), method.get("probability_clip")
        if member == "identity":
            return smearing_form(torch.eye(classes, dtype=torch.float64), clip)
        if member == "smoothing":
            return smearing_form(smoothing_matrix(classes, float(method["smoothing_epsilon"])), clip)
        t = known_symmetric_transition(config) if method.get("transition", "known") == "known" else method.get("matrix")
        return None if t is None else smearing_form(torch.linalg.inv(torch.as_tensor(t, dtype=torch.float64)), clip)

    @classmethod
    def check_ready(cls, cfg: DictConfig) -> None:
        if cfg.method.smearing == "backward":
            if cfg.method.transition == "known":
                noise_transition(cfg.noise, int(cfg.data.num_classes))
            else:
                check_transition(cfg.method.matrix, int(cfg.data.num_classes), where="method.matrix", invertible=True)

    def __init__(self, cfg: DictConfig, exp) -> None:
        super().__init__(cfg, exp)
        num_classes, o = exp.data.num_classes, self.options
        self.member = o.smearing
        if self.member == "identity":
            m = torch.eye(num_classes, dtype=torch.float64)
        elif self.member == "smoothing":
            m = smoothing_matrix(num_classes, float(o.smoothing_epsilon))
        elif o.transition == "known":
            data = exp.data
            t = noise_transition(
                exp.cfg.noise,
                num_classes,
                targets=data.train_true_targets,
                among=exp.data.train_idx,
                given=data.train_targets,
            )
            m = torch.linalg.inv(check_transition(t, num_classes, where="the noise model's T", invertible=True))
        else:
            m = torch.linalg.inv(check_transition(o.matrix, num_classes, where="method.matrix", invertible=True))
        self.matrix64 = m
        self.matrix = m.to(device=exp.hardware.device, dtype=torch.float32)

    def clean_label_uses(self, exp) -> list:
        """Besides the held-out part: the backward member's known T of human noise (CIFAR-N) is counted from the
        training part's clean labels."""
        known = self.member == "backward" and self.cfg.get("transition", "known") == "known"
        return super().clean_label_uses(exp) + (known_transition_use(exp) if known else [])

    def train_step(self, exp, x: Tensor, y: Tensor, idx: Tensor) -> StepOutput:
        logits = exp.model(x)
        loss = smeared_loss(logits, y, self.matrix, clip=self.options.probability_clip)
        optimizer_step(exp.optim.optimizer, loss, epoch=exp.epoch)
        return StepOutput(loss.detach(), logits.detach())

    def recorders(self, exp) -> list:
        return [_SmearingRecord(self)]


class _SmearingRecord(Recorder):
    """summary.json: the member, the smearing matrix's smallest entry (negative: bounded only by the clip) and the
    clip."""

    records = "smearing, smearing_min_entry, smearing_diag_mean, probability_clip in the summary"
    when = When.SUMMARY

    def __init__(self, method: LabelSmearing) -> None:
        self.method = method

    def on_epoch_end(self, exp: Any, epoch: int, row: dict[str, Any], tracker: Any) -> None:
        pass

    def summary(self) -> dict[str, Any]:
        m = self.method.matrix64
        return {
            "smearing": self.method.member,
            "smearing_min_entry": float(m.min()),
            "smearing_diag_mean": float(torch.diagonal(m).mean()),
            "probability_clip": self.method.options.probability_clip,
        }
