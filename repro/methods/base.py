"""The interface between the training loop and a training method (docs/architecture.md, "Methods").

The loop owns the run (data order, epochs, evaluation, checkpoints, records); a method owns what happens to one
batch: which targets and weights the loss uses, which meta-gradient it takes, which optimizers step. A method is
its declaration (repro/methods/declarations/, torch-free), its trainer (a module under repro/methods/, this class's
subclass) and one config file under repro/conf/method/; the loop knows none by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Mapping

import torch
from omegaconf import DictConfig
from torch import Tensor, nn

from repro.meta.inputs import LookAhead
from repro.methods.declaration import MethodDeclaration, option_values
from repro.schema import build
from repro.training.clean_labels import held_out_use
from repro.training.protocols import Recorder, StepOutput, TrainingMethod

if TYPE_CHECKING:
    from repro.training.experiment import Experiment, RunParts


class NonFiniteLossError(FloatingPointError):
    """The loss (or a learned quantity) became NaN/inf: the run stops, the last good checkpoint stays."""


class Method(TrainingMethod):
    """One method's trainer: the loop's `TrainingMethod` (repro/training/protocols.py), which has its method's
    declaration (repro/methods/declaration.py: its options, step cost and the facts a plan reads) rather than being
    it: `class Trainer(Method, declaration=TrainerDeclaration)`. A trainer that reuses another's step says so in its
    one class line, `class Replay(FixedTargets, declaration=ReplayDeclaration)`, and still has its own declaration:
    none is inherited (a trainer's subclass may read other options). Subclasses implement `train_step`;
    `self.options` is the typed object of the run's method node, built through the declaration's `Options`.

    Methods whose declaration `needs_meta_set` draw clean meta batches (`exp.batches.next_meta()`). State that must
    survive a preemption (learned labels, a second network, temperatures, optimizer states) goes through
    `state_dict`/`load_state_dict`, which the loop puts into the run's checkpoint."""

    # The method's declaration, set by the class line's `declaration=` (None on a base no method trains with, such
    # as the students' LearnsFromRun); the registry checks that the trainer a declaration names has it.
    declaration: ClassVar[type[MethodDeclaration] | None] = None
    labels: Any = None  # a method that trains on a label parametrisation sets it (the label recorders read it)

    def __init_subclass__(cls, declaration: type[MethodDeclaration] | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.declaration = declaration  # never inherited: each trainer's class line names its own

    @classmethod
    def training_form(cls, config: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """What a run of this method computes per step, in a form shared with the other methods that can compute the
        same (repro/methods/same_training.py: e.g. the smearing family's loss and matrix), from the run's resolved
        config; None: the method's own config node describes it."""
        return None

    @classmethod
    def check_ready(cls, cfg: DictConfig) -> None:
        """Refuse to start, before anything of the run is written, when what the run reads from disk (a teacher
        run) is missing or unfinished."""

    def __init__(self, cfg: DictConfig | Mapping[str, Any], exp: RunParts) -> None:
        """`exp`: the run's parts (repro/training/experiment.py: data, model, optimizer, hardware, ...), which the
        method is built on before the experiment is made whole with it."""
        self.cfg = cfg  # the run's method node
        declared = type(self).declaration
        if declared is None:
            raise TypeError(
                f"{type(self).__name__} has no declaration: write `class {type(self).__name__}(..., "
                "declaration=<its MethodDeclaration>)`"
            )
        self.options = build(declared.Options, option_values(cfg))

    # -- the step -------------------------------------------------------------------------------------------
    def train_step(self, exp: Experiment, x: Tensor, y: Tensor, idx: Tensor) -> StepOutput:
        """Train on one batch (x, given labels y, global sample indices idx): forward, backward, optimizer step."""
        raise NotImplementedError

    def lookahead(self, exp: Experiment, *, weight_decay: bool, meta_cost_decay: bool = False) -> LookAhead:
        """This step's look-ahead (repro/meta/inputs.py), at the optimizer's look-ahead lr (`optim.lookahead_lr`):
        `weight_decay` adds the optimizer's weight decay to theta' (a method's `lookahead_weight_decay`),
        `meta_cost_decay` to the meta cost (L2RW's authors' form)."""
        decay = exp.optim.weight_decay
        return LookAhead(
            lr=exp.optim.lookahead_lr,
            weight_decay=decay if weight_decay else 0.0,
            meta_cost_decay=decay if meta_cost_decay else 0.0,
            compile_jvp=exp.hardware.compile_jvp,
        )

    # -- the epoch ------------------------------------------------------------------------------------------
    def set_epoch(self, exp: Experiment, epoch: int) -> None:
        """Called before each epoch (0-based): schedules that depend on the epoch start here."""

    def end_epoch(self, exp: Experiment) -> dict[str, Any]:
        """Called after each epoch's last step: step own schedulers, return the epoch's scalars for the metrics
        row (they land in metrics.jsonl, the checkpoint's history and W&B)."""
        return {}

    def eval_model(self, exp: Experiment) -> nn.Module:
        """The network the run reports (validation and test accuracy)."""
        return exp.model

    def clean_label_uses(self, exp: Experiment) -> list:
        """The clean labels this run uses beyond its noisy training labels (repro.training.clean_labels): the split's
        held-out part, as a meta set when the method learns on it; a method that reads more overrides this."""
        held_out = int(exp.data.meta_idx.numel()) if exp.data.held_out_clean else 0  # noisy held-out labels: none used
        return held_out_use(held_out, learns_on_it=self.declaration.needs_meta_set)

    def recorders(self, exp: RunParts) -> list[Recorder]:
        """Its own recorders (the Recorder protocol): label trajectories, weight histograms, ... (the recorders every
        run has, whatever its method, are registered in repro/recorders/)."""
        return []

    # -- the checkpoint -------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


def optimizer_step(optimizer: torch.optim.Optimizer, loss: Tensor, *, epoch: int, what: str = "training loss") -> None:
    """zero_grad, backward (outside autocast), step. On the CPU a non-finite loss stops the run here, before it can
    reach the parameters; on a GPU that check would cost a host sync per step, so the loop's running totals
    (repro/training/steptotals.py) catch it a few steps later, still before the epoch's checkpoint is written."""
    if loss.device.type == "cpu" and not torch.isfinite(loss):
        raise NonFiniteLossError(f"the {what} became {loss.item()} at epoch {epoch + 1}.")
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(loss.device.type, enabled=False):
        loss.backward()
    optimizer.step()


def check_finite(values: Tensor, what: str) -> None:
    """Fail the run like a NaN loss when a learned quantity (weights, temperatures) stops being finite. On a GPU the
    check would be a host sync per step; there a non-finite quantity makes the loss non-finite, which the loop's
    running totals catch (with the loss named instead)."""
    if values.device.type == "cpu" and not bool(torch.isfinite(values).all()):
        raise NonFiniteLossError(f"the {what} became NaN or infinite.")
