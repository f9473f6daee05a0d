"""`method=mentornet`: MentorNet (Jiang, Zhou, Leung, Li, Fei-Fei, ICML 2018; the paper's [7]; code google/mentornet,
Apache-2.0, TensorFlow 1): a trained mentor network weights each sample of the StudentNet's batch from its loss, the
loss minus a moving percentile of the batch losses and the training's progress (weighting.py), and the StudentNet
steps on mean_i(v_i * CE_i). `method.curriculum` picks the mentor: `pd` (learned to imitate the pre-defined
curriculum vstar_mentornet_pd) or `dd` (learned from a StudentNet dump with known clean labels); both are trained
and stored by a finished `method=mentornet_mentor` run (mentor_run.py) that `method.mentor` names, as a sweep's
`teacher:` sets it. Settings and sources: docs/methods/mentornet.md and repro/conf/method/mentornet.yaml.

Per step (`code/cifar_train_mentornet.py`, `train_resnet_mentornet`): the forward, per-sample CE on the given labels,
the weights v (no gradient through them), the loss mean_i(v_i CE_i), and the weight decay scaled by sum(v) / n:
their total loss is `weighted_loss + decay_loss * sum(v) / batch_size`. The optimizer here applies the decay itself
(`optim.weight_decay`, to every parameter), so the loss adds (mean(v) - 1) * wd / 2 * ||theta||^2 to it: the
gradient's decay term is then mean(v) * wd * theta, theirs. `method.decay_scaled_by_weights=false` leaves the decay
unscaled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import Tensor

from repro.data.noise import describes_noise
from repro.data.noise.apply import actual_noise_rate
from repro.meta.weight_stats import WeightHistogramRecorder, WeightStats
from repro.methods.base import Method, StepOutput, optimizer_step
from repro.methods.declarations.mentornet import MentorNetDeclaration
from repro.methods.mentornet import records
from repro.methods.mentornet.weighting import MentorWeighting, WeightingSettings, dropout_rates
from repro.runs.rundir import RunDir
from repro.training.clean_labels import MENTOR_TARGETS, CleanLabelUse
from repro.training.protocols import Recorder, When

# The authors' commands (commands/train_studentnet_resnet.sh), per curriculum: burn-in epochs, whether the epoch
# feature stops at the burn-in, and the example dropout rates as [rate, epochs]+ over the 100 epoch percentages.
CURRICULUM_FLAGS: dict[str, dict[str, Any]] = {
    "pd": {"burn_in_epoch": 0, "fixed_epoch_after_burn_in": False, "example_dropout_rates": [0.5, 17, 0.05, 83]},
    "dd": {
        "burn_in_epoch": 18,
        "fixed_epoch_after_burn_in": True,
        "example_dropout_rates": [0.5, 17, 0.05, 78, 0.9, 5],
    },
}
# --loss_p_precentile in the same commands, by their noise fraction (CIFAR-10 and CIFAR-100 alike).
AUTHORS_PERCENTILES: dict[str, tuple[tuple[float, float], ...]] = {
    "pd": ((0.2, 0.75), (0.4, 0.75), (0.8, 0.5)),
    "dd": ((0.2, 0.8), (0.4, 0.6), (0.8, 0.5)),
}


def authors_percentile(curriculum: str, noise_fraction: float) -> float:
    """The authors' loss percentile for a noise fraction: their value at the smallest of their noise levels (20%,
    40%, 80%) at or above it, 80%'s above that (60%, Table 6's, takes 80%'s: 0.5 for both curricula)."""
    levels = AUTHORS_PERCENTILES[curriculum]
    return next((value for level, value in levels if noise_fraction <= level + 1e-9), levels[-1][1])


class MentorNet(Method, declaration=MentorNetDeclaration):
    @classmethod
    def source_run(cls, cfg: DictConfig | Mapping[str, Any]) -> RunDir:
        """The finished mentor run this student is weighted by (the run its W&B lineage names as its input, as a
        student's teacher)."""
        return records.find_mentor_run(cfg["method"].get("mentor"), cfg["output_root"])

    @classmethod
    def check_ready(cls, cfg: DictConfig) -> None:
        """The mentor run is finished, a mentor run, and holds this curriculum's mentor."""
        records.load_mentor(cls.source_run(cfg), str(cfg.method.curriculum))

    def __init__(self, cfg: DictConfig, exp) -> None:
        super().__init__(cfg, exp)
        o = self.options
        self.source = self.source_run(exp.cfg)
        self.mentor_record = records.read_record(self.source)
        self.settings = weighting_settings(o, noise_fraction(exp))
        device = exp.hardware.device
        self.weighting = MentorWeighting(records.load_mentor(self.source, o.curriculum), self.settings, device)
        self.decay = float(exp.optim.weight_decay) if o.decay_scaled_by_weights else 0.0
        groups = exp.optim.optimizer.param_groups
        self.decayed = [p for group in groups if group["weight_decay"] for p in group["params"]]
        self.stats = WeightStats(exp.data.noisy_mask, 1.0)
        self.mentor_sums = torch.zeros(4, device=device)  # mentor v summed on noisy / clean samples, and counts
        self.noisy = exp.data.noisy_mask.to(device)
        self.total_steps = exp.optim.total_steps  # the run's steps: the epoch feature is the share of them done
        self.step = 0

    def train_step(self, exp, x: Tensor, y: Tensor, idx: Tensor) -> StepOutput:
        logits = exp.model(x)
        per_sample = F.cross_entropy(logits.float(), y, reduction="none")
        weighed = self.weighting(per_sample.detach(), self.step, self.total_steps)
        v = weighed.weights
        loss = (per_sample * v).mean()
        total = loss + self.decay_correction(v) if self.decay else loss
        optimizer_step(exp.optim.optimizer, total, epoch=exp.epoch)
        self.step += 1
        self.stats.add(idx, v)
        noisy = self.noisy[idx].float()
        self.mentor_sums += torch.stack(
            [(weighed.mentor * noisy).sum(), noisy.sum(), (weighed.mentor * (1 - noisy)).sum(), (1 - noisy).sum()]
        )
        return StepOutput(loss.detach(), logits.detach())

    def decay_correction(self, v: Tensor) -> Tensor:
        """(mean(v) - 1) * wd / 2 * ||theta||^2 over the decayed parameters: with the optimizer's own decay, the
        gradient's decay term becomes mean(v) * wd * theta."""
        squares = torch.stack([p.float().pow(2).sum() for p in self.decayed]).sum()
        return (v.mean() - 1) * (0.5 * self.decay) * squares

    def end_epoch(self, exp) -> dict[str, Any]:
        row = self.stats.epoch_row()
        sums = self.mentor_sums.cpu().tolist()
        self.mentor_sums.zero_()
        nan = float("nan")
        row.update(
            mentor_weight_mean_noisy=sums[0] / sums[1] if sums[1] else nan,
            mentor_weight_mean_clean=sums[2] / sums[3] if sums[3] else nan,
            mentor_loss_moving_average=float(self.weighting.moving_average),
            mentor_epoch_feature=self.weighting.epoch_feature(max(self.step - 1, 0), self.total_steps),
        )
        return row

    def clean_label_uses(self, exp) -> list:
        """The split's held-out part (validation only), and for DD the clean labels its mentor learned from (another
        run's dump: the authors' "additional clean data")."""
        uses = super().clean_label_uses(exp)
        if self.options.curriculum == "dd":
            uses.append(CleanLabelUse(MENTOR_TARGETS, int(self.mentor_record["dd"]["dump_samples"])))
        return uses

    def recorders(self, exp) -> list:
        return [WeightHistogramRecorder(self.stats), MentorRecord(exp, self)]

    def state_dict(self) -> dict[str, Any]:
        return {"weighting": self.weighting.state_dict(), "step": self.step}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.weighting.load_state_dict(state["weighting"])
        self.step = int(state["step"])


def noise_fraction(exp) -> float:
    """The run's noise fraction as the authors' commands name it (noise.fraction); a noise model without one (human
    labels) gives its actual noise rate; no noise, 0."""
    cfg = exp.cfg
    if not describes_noise(cfg.noise):
        return 0.0
    if cfg.noise.get("fraction") is not None:
        return float(cfg.noise.fraction)
    return actual_noise_rate(
        cfg.noise,
        int(cfg.data.num_classes),
        targets=exp.data.train_true_targets,
        among=exp.data.train_idx,
        given=exp.data.train_targets,
    )


def weighting_settings(o: Any, fraction: float) -> WeightingSettings:
    """The student-side settings: each option, or where it is null the curriculum's value from the authors'
    commands."""
    flags = CURRICULUM_FLAGS[o.curriculum]
    fixed = o.fixed_epoch_after_burn_in
    percentile = authors_percentile(o.curriculum, fraction) if o.loss_percentile is None else float(o.loss_percentile)
    return WeightingSettings(
        loss_percentile=percentile,
        moving_average_decay=float(o.moving_average_decay),
        burn_in_epoch=flags["burn_in_epoch"] if o.burn_in_epoch is None else int(o.burn_in_epoch),
        fixed_epoch_after_burn_in=flags["fixed_epoch_after_burn_in"] if fixed is None else bool(fixed),
        dropout_rates=tuple(dropout_rates(o.example_dropout_rates or flags["example_dropout_rates"])),
    )


class MentorRecord(Recorder):
    """What the student weighted by and the weights' last-epoch means into summary.json: the mentor run, the
    curriculum, the settings, and the weights on noisy vs clean samples (as they enter the loss, and the mentor's
    own output before burn-in and dropout)."""

    KEYS = ("weight_mean_noisy", "weight_mean_clean", "mentor_weight_mean_noisy", "mentor_weight_mean_clean")
    records = "mentor_run, curriculum, the weighting settings and the last epoch's weight means in the summary"
    when = When.SUMMARY

    def __init__(self, exp, method: MentorNet) -> None:
        self.method, self.run_dir = method, exp.run_dir

    def on_epoch_end(self, exp: Any, epoch: int, row: dict[str, Any], tracker: Any) -> None:
        pass

    def summary(self) -> dict[str, Any]:
        s = self.method.settings
        rows = self.run_dir.read_metrics()  # also right for a run resumed after its last epoch
        last = rows[-1] if rows else {}
        return {
            "mentor_run": self.method.source.run_id,
            "curriculum": self.method.options.curriculum,
            "mentor_loss_percentile": s.loss_percentile,
            "mentor_burn_in_epoch": s.burn_in_epoch,
            "mentor_fixed_epoch_after_burn_in": s.fixed_epoch_after_burn_in,
            **{f"final_{k}": last[k] for k in self.KEYS if k in last},
        }
