"""The declaration of OnlineLabelSmoothing (repro/methods/online_label_smoothing.py): its options and what a plan asks
of it. Online label smoothing (Zhang et al., 2021): each class's soft label from the last epoch's correct
predictions."""

from __future__ import annotations

from typing import Literal

from repro.methods.declaration import MethodDeclaration
from repro.schema import option, schema
from repro.training.step_cost import PLAIN


class OnlineLabelSmoothingDeclaration(MethodDeclaration):
    trainer = "repro.methods.online_label_smoothing:OnlineLabelSmoothing"
    step_cost = PLAIN  # one forward and backward; the statistics are a softmax and a scatter-add, no second pass

    @schema
    class Options:
        hard_weight: float = option(
            ge=0,
            le=1,
            why="loss = hard_weight x CE(y) + (1 - hard_weight) x CE(soft[y])",
            hint="their CIFAR script: 0.5",
        )
        init: Literal["zeros", "uniform"] = option(
            why="the soft labels before the first epoch",
            hint="zeros: their CIFAR script; uniform: their fine-grained solver",
        )
