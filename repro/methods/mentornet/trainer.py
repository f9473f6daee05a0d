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


def train_mentor(data: MentorData, recipe: MentorRecipe, generator: torch.Generator) -> tuple[MentorNetwork, dict]:
    """A mentor trained on `data`; and its record: steps, the loss kind, its test loss and how close its weights
    come to the targets on the held-out rows. The steps run in numpy (numpy_net.py: the same network, TensorFlow's
    Adam, a tenth of torch's time per step on these tiny arrays); the row order comes from `generator`."""
    net = MentorNetwork(generator)
    rows, batch = data.train_x.shape[0], recipe.batch_size
    if rows < batch:
        raise UserError(
            f"A mentor trains on mini-batches of {batch} rows (method.mentor_batch_size), but it has {rows} rows to "
            "train on. Dump more (method.dump_fraction, more epochs or training samples) or lower "
            "method.mentor_batch_size."
        )
    per_epoch, binary = rows // batch, data.binary
    flat = FlatParameters(net)
    x, v = data.train_x.numpy().astype(np.float32), data.train_v.numpy().astype(np.float32)
    adam = TensorFlowAdam(flat.values.size)
    order = torch.randperm(rows, generator=generator).numpy()
    for step in range(recipe.steps):
        position = step % per_epoch
        if step and position == 0:
            order = torch.randperm(rows, generator=generator).numpy()
        pick = order[position * batch : (position + 1) * batch]
        backward(flat, x[pick], v[pick], binary)
        clip_by_global_norm(flat.grad, CLIP_NORM)
        adam.step(flat.values, flat.grad, learning_rate(step, recipe))
    flat.copy_into(net)
    net.eval().requires_grad_(False)
    return net, {"steps": recipe.steps, "lr": recipe.lr, "batch_size": batch, **evaluate_mentor(net, data, binary)}


def train_best_mentor(data: MentorData, recipe: MentorRecipe, seeds: list[int]) -> tuple[MentorNetwork, dict[str, Any]]:
    """The mentor trained from each of `seeds` (its initial weights and row order), kept where its loss on the
    held-out rows is lowest; its record, with every initialisation's held-out loss (`init_test_losses`) and which
    was kept. The PD mentor from about a quarter of initialisations misses the curriculum's "every weight 1 up to
    epoch 18" (the frozen random epoch embedding hides it): its held-out squared error stops near 0.095, the
    share of those rows times the half of them the self-paced part sets to 0 (docs/methods/mentornet.md). The authors
    ship one trained mentor, which their students load; choosing among initialisations on the curriculum's own
    held-out rows (never the task's data) is how a mentor that draws its curriculum is had here."""
    tried = [train_mentor(data, recipe, torch.Generator().manual_seed(seed)) for seed in seeds]
    losses = [record["test_loss"] for _, record in tried]
    kept = int(np.argmin(losses))
    net, record = tried[kept]
    return net, {**record, "init_seeds": list(seeds), "init_test_losses": losses, "init_kept": kept}


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
