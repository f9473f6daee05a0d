"""Training a mentor on its curriculum's rows, as google/mentornet `code/training_mentornet/train.py` does: Adam
(`create_train_op`) at lr 0.1 times 0.9 every 1000 steps (staircase; `decay_steps=1000`), gradients clipped to a
global norm of 5, mini-batches of 32, 30,000 steps (`--max_step_train=3e4`), each epoch of the rows reshuffled and
its last partial batch dropped (`reader.py`'s `next_batch`). The loss is the sigmoid cross-entropy of the logit
when the targets are 0/1 (DD), else the squared error of sigmoid(logit) (`tf.nn.l2_loss(v* - v) * 2 / batch`: PD,
whose SPCL part gives weights between 0 and 1).

Always on the CPU, in float32, from the run's seed: the network is tiny (237 parameters), so a GPU would
only add kernel launches; the steps run in numpy (numpy_net.py), with TensorFlow's Adam.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from repro.errors import UserError
from repro.methods.mentornet.curricula import MentorData
from repro.methods.mentornet.network import MentorNetwork
from repro.methods.mentornet.numpy_net import FlatParameters, TensorFlowAdam, backward, clip_by_global_norm

DECAY_EVERY = 1000  # train.py: decay_steps=1000
DECAY = 0.9  # create_train_op: exponential_decay(..., 0.9, staircase=True)
CLIP_NORM = 5.0  # create_train_op: max_grad_norm=5


@dataclass(frozen=True)
class MentorRecipe:
    """How long and how fast a mentor trains (train.py's flags: --max_step_train, --learning_rate,
    --mini_batch_size)."""

    steps: int = 30_000
    lr: float = 0.1
    batch_size: int = 32


def learning_rate(step: int, recipe: MentorRecipe) -> float:
    """The lr of 0-based `step`: lr * 0.9 ** floor(step / 1000) (exponential_decay, staircase)."""
    return recipe.lr * DECAY ** (step // DECAY_EVERY)


def mentor_loss(logits: Tensor, targets: Tensor, binary: bool) -> Tensor:
    """train.py's loss: sigmoid cross-entropy for 0/1 targets, else the mean squared error of the sigmoid."""
    if binary:
        return F.binary_cross_entropy_with_logits(logits, targets)
    return ((targets - torch.sigmoid(logits)) ** 2).mean()


AUDITION_SHARE = 0.1  # of a mentor's steps each initialisation trains before one is chosen to go on (train_best_mentor)


class MentorFit:
    """One mentor's training, resumable step by step (`advance`), so that several initialisations can train the first
    share of the steps and one of them go on: the steps, the learning rate of each and the reshuffles depend only on
    the step count and the generator, so training in pieces is the same as in one go. The steps run in numpy
    (numpy_net.py: the same network, TensorFlow's Adam, a tenth of torch's time per step on these tiny arrays); the
    row order comes from `generator`."""

    def __init__(self, data: MentorData, recipe: MentorRecipe, generator: torch.Generator) -> None:
        self.net, self.data, self.recipe, self.generator = MentorNetwork(generator), data, recipe, generator
        rows, batch = data.train_x.shape[0], recipe.batch_size
        if rows < batch:
            raise UserError(
                f"A mentor trains on mini-batches of {batch} rows (method.mentor_batch_size), but it has {rows} rows "
                "to train on. Dump more (method.dump_fraction, more epochs or training samples) or lower "
                "method.mentor_batch_size."
            )
        self.per_epoch, self.binary, self.step = rows // batch, data.binary, 0
        self.flat = FlatParameters(self.net)
        self.x, self.v = data.train_x.numpy().astype(np.float32), data.train_v.numpy().astype(np.float32)
        self.adam = TensorFlowAdam(self.flat.values.size)
        self.order = torch.randperm(rows, generator=generator).numpy()

    def advance(self, until: int) -> None:
        """Train on to step `until` (0-based steps before it are done)."""
        batch = self.recipe.batch_size
        for step in range(self.step, until):
            position = step % self.per_epoch
            if step and position == 0:
                self.order = torch.randperm(self.x.shape[0], generator=self.generator).numpy()
            pick = self.order[position * batch : (position + 1) * batch]
            backward(self.flat, self.x[pick], self.v[pick], self.binary)
            clip_by_global_norm(self.flat.grad, CLIP_NORM)
            self.adam.step(self.flat.values, self.flat.grad, learning_rate(step, self.recipe))
        self.step = max(self.step, until)

    def held_out_loss(self) -> float:
        """Its loss on the held-out rows now."""
        self.flat.copy_into(self.net)
        with torch.no_grad():
            return float(mentor_loss(self.net(self.data.test_x), self.data.test_v, self.binary))

    def result(self) -> tuple[MentorNetwork, dict]:
        """The trained mentor (frozen) and its record: steps, the loss kind, its fit on the held-out rows."""
        self.flat.copy_into(self.net)
        self.net.eval().requires_grad_(False)
        recipe = self.recipe
        fit = evaluate_mentor(self.net, self.data, self.binary)
        return self.net, {"steps": self.step, "lr": recipe.lr, "batch_size": recipe.batch_size, **fit}


def train_mentor(data: MentorData, recipe: MentorRecipe, generator: torch.Generator) -> tuple[MentorNetwork, dict]:
    """A mentor trained on `data` for the recipe's steps; and its record (`MentorFit.result`)."""
    fit = MentorFit(data, recipe, generator)
    fit.advance(recipe.steps)
    return fit.result()


def train_best_mentor(data: MentorData, recipe: MentorRecipe, seeds: list[int]) -> tuple[MentorNetwork, dict[str, Any]]:
    """The mentor from the best of several initialisations (one per seed: its initial weights and row order): each
    trains the first AUDITION_SHARE of the steps, the one with the lowest loss on the held-out rows then trains the
    rest; its record, with each initialisation's held-out loss at that point (`init_audition_losses`) and which went
    on. The PD mentor from about a fifth of initialisations misses the curriculum's "every weight 1 up to epoch 18"
    (the frozen random epoch embedding hides it): its held-out squared error stops near 0.095, the share of those
    rows times the half of them the self-paced part sets to 0, and it shows by a tenth of the steps
    (docs/methods/mentornet.md). The authors ship one trained mentor, which their students load; choosing among
    initialisations on the curriculum's own held-out rows (never the task's data) is how a mentor that draws its
    curriculum is had here, at 1 + 0.1 x (inits - 1) mentors' steps."""
    fits = [MentorFit(data, recipe, torch.Generator().manual_seed(seed)) for seed in seeds]
    audition = min(recipe.steps, max(1, round(AUDITION_SHARE * recipe.steps))) if len(fits) > 1 else 0
    for fit in fits:
        fit.advance(audition)
    losses = [fit.held_out_loss() for fit in fits] if audition else []
    kept = int(np.argmin(losses)) if losses else 0
    fits[kept].advance(recipe.steps)
    net, record = fits[kept].result()
    chosen = {"init_seeds": list(seeds), "init_audition_steps": audition, "init_audition_losses": losses}
    return net, {**record, **chosen, "init_kept": kept}


def evaluate_mentor(net: MentorNetwork, data: MentorData, binary: bool) -> dict[str, Any]:
    """How the mentor's weights meet the held-out targets: its loss there, the mean |v - v*|, the share it puts on
    the right side of 0.5, and (targets 0/1) its mean weight on the rows whose target is 1 and 0."""
    with torch.no_grad():
        logits = net(data.test_x)
        v = torch.sigmoid(logits)
    target = data.test_v
    record: dict[str, Any] = {
        "loss": "sigmoid cross-entropy" if binary else "squared error of the weight",
        "train_rows": int(data.train_x.shape[0]),
        "test_rows": int(target.numel()),
        "test_loss": float(mentor_loss(logits, target, binary)),
        "test_mean_abs_error": float((v - target).abs().mean()),
        "test_same_side_of_half": float(((v > 0.5) == (target > 0.5)).float().mean()),
    }
    if binary:
        for name, mask in (("target_1", target == 1), ("target_0", target == 0)):
            record[f"test_mean_weight_{name}"] = float(v[mask].mean()) if bool(mask.any()) else float("nan")
    return record
