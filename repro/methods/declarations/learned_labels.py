"""The declaration of LearnedLabels (repro/methods/learned_labels.py): its options and what a plan asks of it. Learned
soft labels (the paper's Algorithm 1): class or instance labels updated by the look-ahead meta-gradient."""

from __future__ import annotations

from typing import Literal

from repro.labels.record_settings import RecordSettings
from repro.labels.registry import learned_kinds
from repro.methods.declaration import MethodDeclaration
from repro.schema import option, schema
from repro.training.step_cost import LABEL_LOOKAHEAD


class LearnedLabelsDeclaration(MethodDeclaration):
    trainer = "repro.methods.learned_labels:LearnedLabels"
    step_cost = LABEL_LOOKAHEAD  # Algorithm 1: the look-ahead meta step, then the training step
    needs_meta_set = True

    @schema
    class Options:
        labels: str = option(choices=learned_kinds, why="the learned label kind: class | instance (its config sets it)")
        init_target_prob: float = option(gt=0, le=1, why="every label's target-class probability at the start")
        label_lr: float = option(gt=0, why="the labels' SGD learning rate (Eq. 5)")
        meta_batch_size: int = option(ge=1, why="clean meta samples per step (the paper: 256)")
        lookahead_weight_decay: bool = option(
            default=False, why="false: Eq. 3's plain SGD look-ahead; true: adds the optimizer's wd * theta"
        )
        curriculum: Literal["none", "entropy"] = option(
            default="none", why="the noisy setting's entropy-weighted curriculum (docs/method.md)"
        )
        curriculum_weight: Literal["certainty", "entropy"] = option(
            default="certainty", why="the curriculum's sign: 1 - H/log C (certainty) or H/log C (entropy)"
        )
        curriculum_placement: Literal["model_step", "both"] = option(
            default="model_step", why="weigh the real step only, or the meta step's look-ahead too"
        )
        record: RecordSettings = option(default_factory=RecordSettings, why="what the run writes under labels/")
