"""The typed seam between the training loop and what it calls: a run's method (`TrainingMethod`, implemented by
repro.methods.base.Method) and its recorders (`Recorder`, implemented in repro/labels/, repro/recorders/ and by the
methods' own).

Why here, in the training layer: the experiment holds its method and recorders and calls them, so their types belong
below the loop; the implementations sit above it and import these protocols, and that import is the dependency the
layer test sees (tests/project/test_layers.py). Implementations subclass the protocols explicitly: they then inherit the
defaults below and a checker sees every one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Protocol, runtime_checkable

from torch import Tensor, nn

# The experiment (repro/training/experiment.py) holds these, so they take it untyped: importing it here, even for
# type checking only, would make the two modules import each other.
Experiment = Any


@dataclass
class StepOutput:
    """What the loop needs from one step: the loss (for the epoch mean) and the logits it trained on (for the
    train accuracy), both detached."""

    loss: Tensor
    logits: Tensor


class When(enum.Enum):
    """When a recorder does its work."""

    EVERY_EPOCH = "every epoch, after the evaluation and before the epoch's checkpoint"
    LAST_EPOCH = "at the last epoch only"
    SUMMARY = "only into summary.json, once the run is done"


@runtime_checkable
class Recorder(Protocol):
    """What a run records beyond the loop's metrics row (label trajectories, memorisation, held-out probabilities,
    a method's own statistics).

    records      what it writes: metrics-row keys (so metrics.jsonl, the checkpoint's history and W&B), files in the
                 run directory, summary fields
    when         when it does its work (`When`)
    eval_images  the images it evaluates (a forward in eval mode) each time it works, from the run's config and
                 sizes alone: `repro sweep --dry-run` prices them (repro/train.py: eval_images)

    The loop calls `on_epoch_end(exp, epoch, row, tracker)` after each epoch's evaluation and before that epoch's
    checkpoint (scalars it adds to `row` are the epoch's; a checkpoint of epoch e+1 implies epoch e's records
    exist), and `summary()` once, into summary.json."""

    records: ClassVar[str]
    when: ClassVar[When]

    @classmethod
    def eval_images(cls, config: Mapping[str, Any], n_train: int, n_meta: int, n_test: int) -> int:
        """Images evaluated each time it works, for a run of `config` with these train / meta / test sizes."""
        return 0

    def on_epoch_end(self, exp: Experiment, epoch: int, row: dict[str, Any], tracker: Any) -> None:
        """Record 0-based `epoch` (a SUMMARY recorder records nothing per epoch)."""

    def summary(self) -> dict[str, Any]:
        """Its fields of summary.json."""
        return {}


@runtime_checkable
class TrainingMethod(Protocol):
    """What the loop asks of a run's method (repro.methods.base.Method: docs/architecture.md, "Methods")."""

    needs_meta_set: ClassVar[bool]
    labels: Any  # its label parametrisation (repro.labels), or None: the label recorders read it

    def set_epoch(self, exp: Experiment, epoch: int) -> None: ...

    def train_step(self, exp: Experiment, x: Tensor, y: Tensor, idx: Tensor) -> StepOutput: ...

    def end_epoch(self, exp: Experiment) -> dict[str, Any]: ...

    def eval_model(self, exp: Experiment) -> nn.Module: ...

    def clean_label_uses(self, exp: Experiment) -> list: ...

    def recorders(self, exp: Experiment) -> list[Recorder]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@runtime_checkable
class EpochLimit(Protocol):
    """Where a run's training stops short of its own epochs, on its full schedule (a successive-halving rung's job:
    repro/sweep/stages/tune/rung_job.py). The loop asks it, knowing no stage: it trains to `end_epoch`, and there
    ends the run with status `stopped` (a finished run of its own kind, no summary) and `stopped`'s message."""

    def end_epoch(self, total: int) -> int:
        """The epoch to train to, of a run whose schedule has `total` epochs (a UserError where the limit was
        planned for another schedule)."""
        ...

    def stopped(self, epoch: int, total: int) -> str:
        """What the run's status says once it stopped at `epoch` of `total`."""
        ...
