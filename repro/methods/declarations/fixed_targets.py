"""The declaration of FixedTargets (repro/methods/fixed_targets.py): its options and what a plan asks of it. Fixed
targets (one-hot or smoothed) with an optional confidence penalty: baseline, label_smoothing, confidence_penalty."""

from __future__ import annotations

from typing import Literal

from repro.methods.declaration import MethodDeclaration
from repro.schema import option, schema
from repro.training.step_cost import PLAIN


class FixedTargetsDeclaration(MethodDeclaration):
    trainer = "repro.methods.fixed_targets:FixedTargets"
    step_cost = PLAIN  # one forward and backward on fixed (soft) targets

    @schema
    class Options:
        labels: Literal["onehot", "smoothing"] = option(why="the fixed targets (the method's config file sets it)")
        # Negative smoothing is a member of Lukasik et al.'s label-smearing family, not of fixed smoothed targets:
        # its loss is unbounded below, so it has its own method and doc (docs/methods/label_smearing.md).
        epsilon: float = option(
            default=0.0,
            ge=0,
            lt=1,
            why="labels=smoothing: (1 - epsilon) one-hot + epsilon / C",
            hint="negative smoothing, e.g. -0.2, is label smearing's: method=label_smearing "
            "method.smoothing_epsilon=-0.2",
        )
        beta: float = option(default=0.0, ge=0, why="the confidence penalty's weight (0: none)")
