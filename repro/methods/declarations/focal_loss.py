"""The declaration of FocalLoss (repro/methods/focal_loss.py): its options and what a plan asks of it. The focal loss
on the given labels (Lin et al., 2017)."""

from __future__ import annotations

from repro.methods.declaration import MethodDeclaration
from repro.schema import option, schema
from repro.training.step_cost import PLAIN


class FocalLossDeclaration(MethodDeclaration):
    trainer = "repro.methods.focal_loss:FocalLoss"
    step_cost = PLAIN  # a reweighted cross-entropy on one forward

    @schema
    class Options:
        gamma: float = option(
            ge=0, why="the focusing parameter", hint="0 gives the plain cross-entropy; Lin et al. use 2"
        )
