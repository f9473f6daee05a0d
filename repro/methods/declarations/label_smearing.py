"""The declaration of LabelSmearing (repro/methods/label_smearing.py): its options and what a plan asks of it. Label
smearing (Lukasik et al., 2020): the cross-entropy against M's row of the given label."""

from __future__ import annotations

from typing import Literal

from repro.errors import UserError
from repro.methods.declaration import MethodDeclaration
from repro.schema import option, schema
from repro.training.step_cost import PLAIN


class LabelSmearingDeclaration(MethodDeclaration):
    trainer = "repro.methods.label_smearing:LabelSmearing"
    step_cost = PLAIN  # one forward; the smearing matrix is a fixed C x C product

    @schema
    class Options:
        smearing: Literal["identity", "smoothing", "backward"] = option(
            why="identity: M = I (plain CE); smoothing: M = (1 - eps) I + eps/C J; backward: M = T^-1"
        )
        smoothing_epsilon: float = option(
            le=1,
            why="smoothing: any eps <= 1, negative included (then bounded by method.probability_clip, like the "
            "backward correction)",
            hint="above 1 the target's own weight 1 - eps turns negative",
        )
        probability_clip: float | None = option(
            default=None,
            neutral=None,  # the unclipped loss, as runs trained before the clip: their ids stay the same
            gt=0,
            lt=0.5,
            why="p clipped to [c, 1 - c] before the log (Patrini et al.'s Keras code: 1e-7, the config file's default "
            "wherever M has a negative entry: backward, eps < 0); null: unclipped (identity, eps >= 0, and runs "
            "trained before the clip)",
        )
        transition: Literal["known", "given"] = option(
            default="known",
            why="backward: T from the run's noise model (known) or method.matrix (given)",
            hint="for an estimated T use method=loss_correction method.correction=backward",
        )
        matrix: list[list[float]] | None = option(
            default=None, ge=0, le=1, why="transition=given: C rows of C probabilities"
        )

        def check(self) -> None:
            if self.smearing != "backward" and self.matrix is not None:
                raise UserError(
                    f"method.matrix is set, but method.smearing={self.smearing} does not read it; set "
                    "method.smearing=backward method.transition=given, or leave method.matrix null."
                )
            if self.smearing == "backward" and self.transition == "given" and self.matrix is None:
                raise UserError(
                    "method.transition=given needs the matrix in method.matrix: C rows of C probabilities, "
                    "e.g. method.matrix='[[0.8,0.2],[0.3,0.7]]'."
                )
