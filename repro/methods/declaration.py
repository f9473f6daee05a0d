"""What a plan may ask of a training method before any run of it starts, without loading torch
(docs/architecture.md, "Methods").

A method is two classes. Its declaration (a module under repro/methods/declarations/, torch-free) holds the facts a
sweep, a budget, a status line or a report reads: the options and the rules that tie them (`Options`), what one step
costs, whether it learns on a clean meta set, which option names the finished run it learns from, what estimate a
planned run builds, what it can say of a planned run before it starts, whether its seeds may collapse. Its trainer
(repro/methods/<name>.py, `class Trainer(Method, declaration=Declaration)`) has the declaration and adds the step, the
state and the recorders. The registry (repro/methods/registry.py) names the declaration, and the declaration its
trainer, so that planning and reporting never import the trainer."""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

from omegaconf import DictConfig, OmegaConf

from repro.schema import schema
from repro.training.step_cost import StepCost


@schema
class NoOptions:
    """The options of a method that takes none."""


def option_values(node: DictConfig | Mapping[str, Any]) -> dict[str, Any]:
    """A method node's option values as a plain dict (its `name` aside)."""
    plain = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)
    return {k: v for k, v in plain.items() if k != "name"}  # type: ignore[union-attr]


class MethodDeclaration:
    """The torch-free facts of one method. Subclasses set `Options` (a @schema class, repro/schema/declare.py: the
    method.* keys its runs read, each with its type, range, allowed values and, where a config file may leave it out,
    its default; the rules that tie them together in its `check`), `step_cost` and `trainer`; anything else in a
    run's method node is refused before any work."""

    # The method's options, next to its declaration: every method declares its own (`NoOptions` when it has none);
    # tests/methods/test_method_options.py fails for one that does not. Checked at config load (check_method_config).
    Options: ClassVar[type]
    # "module:Class" of the trainer (repro.methods.base.Method) that runs this declaration's method, imported only
    # when a run trains it.
    trainer: ClassVar[str]
    needs_meta_set: ClassVar[bool] = False  # learns on clean meta batches: a run with split=full is refused
    # The method.* option that names a finished run this method learns from (a teacher, a label source); a sweep
    # row's `teacher:` sets it to the planned teacher's run id (repro/sweep/stages/teachers/teacher_runs.py). None:
    # learns from none.
    source_option: ClassVar[str | None] = None
    # What one train_step costs (repro/training/step_cost.py), so that `repro sweep --dry-run` prices it; no default
    # (tests/training/test_step_cost.py).
    step_cost: ClassVar[StepCost]

    @classmethod
    def epoch_eval_images(cls, n_train: int, n_meta: int, n_test: int) -> int:
        """Images the method evaluates itself once per epoch (in `end_epoch` or a recorder), beyond the loop's
        validation and test passes, given the run's train, meta and test sizes: priced by `--dry-run` at the
        calibration's eval cost per image (repro/train.py: epoch_eval_images)."""
        return 0

    @classmethod
    def planned_checks(cls, config: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Records of what a planned run will read from its finished sources, computed before it starts, for
        `repro sweep status` to show (loss correction: its estimated T's check, repro/recorders/transition_check.py);
        empty when there is nothing to say yet."""
        return []

    @classmethod
    def estimate_key(cls, config: Mapping[str, Any]) -> str | None:
        """What identifies the estimate a planned run builds from a finished run before its first epoch and records a
        check of (loss correction's estimated T: repro/recorders/transition_check.py): runs of one key build the very
        same estimate, so the first one's check is every one's (a sweep holds the others until it is known:
        repro/sweep/stages/estimated_t/). None: the run estimates nothing."""
        return None

    @classmethod
    def seeds_may_collapse(cls, config: Mapping[str, Any]) -> str | None:
        """Why a run of this method may, on some seeds, end many seed-to-seed sds below its other seeds (its seeds
        collapse), from the run's resolved config; None where they are not known to. Seeds until decided holds its
        error on the claim lines of such a run with boundaries calibrated on collapsing seeds too (the collapse
        guard, repro/claims/sequential.py): no look at the seeds read can see a collapse that has not happened yet
        (docs/sequential-seeds.md), so the method says so before the data."""
        return None
