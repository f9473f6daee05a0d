"""The declaration of LossCorrection (repro/methods/loss_correction.py): its options and what a plan asks of it. Loss
correction (Patrini et al., 2017): the cross-entropy corrected with the noise's transition matrix."""

from __future__ import annotations

import json
from typing import Any, Literal, Mapping

from repro.errors import UserError
from repro.methods.declaration import MethodDeclaration
from repro.recorders.transition_check import KEPT, kept_files
from repro.runs.finished import find_finished_run
from repro.schema import option, schema
from repro.training.step_cost import PLAIN

# The estimator's network: its last checkpoint, its best-validation epoch, or its epoch of lowest loss on the held-out
# part's noisy labels (Patrini et al.'s; repro/recorders/transition_estimate.py).
ESTIMATE_AT = ("final", *KEPT)


class LossCorrectionDeclaration(MethodDeclaration):
    trainer = "repro.methods.loss_correction:LossCorrection"
    step_cost = PLAIN  # one forward through a fixed transition matrix
    source_option = "estimator"

    @schema
    class Options:
        """Each setting's source: repro/conf/method/loss_correction.yaml, docs/methods/loss_correction.md."""

        correction: Literal["forward", "backward"] = option(
            why="forward: -log (p^T T)_y; backward: (T^-1 (-log p))_y, unbiased for the clean loss"
        )
        probability_clip: float | None = option(
            default=None,
            # The unclipped loss, as runs trained before the clip: their ids stay the same. The config file's default
            # clip (1e-7 for backward, repro/conf/resolvers.py) is hashed, so a run of the old form is never taken
            # for a clipped one.
            neutral=None,
            gt=0,
            lt=0.5,
            why="backward: p clipped to [c, 1 - c] before the log (Patrini et al.'s Keras code: 1e-7, the config "
            "file's default for backward); null: unclipped, as runs trained before the clip (forward: always null)",
        )
        transition: Literal["known", "estimated", "given"] = option(
            why="known: the run's noise model; estimated: anchor points of method.estimator, a run trained on the "
            "same noisy labels; given: method.matrix"
        )
        estimator: str | None = option(default=None, why="transition=estimated: that run's id or directory")
        anchor_percentile: Literal["auto"] | float | None = option(
            default="auto",
            gt=0,
            le=100,
            why="transition=estimated: the anchor is the image with the largest p(class | x) below this percentile "
            "(null: the plain arg-max; auto: 97, or null with 100 classes or more, as their code)",
        )
        matrix: list[list[float]] | None = option(
            default=None,
            ge=0,
            le=1,
            why="transition=given: C rows of C probabilities, row i the given-label distribution of true class i",
        )
        estimate_at: str = option(
            default="final",
            neutral="final",  # added after runs existed: theirs read the estimator's final network
            choices=ESTIMATE_AT,
            why="transition=estimated: the estimator's network at its final epoch, its best-validation epoch "
            "(best_val: reads the held-out part's labels, clean by default) or its epoch of lowest loss on the "
            "held-out part's noisy labels (noisy_val_loss: Patrini et al.'s, no clean label; "
            "repro/recorders/transition_estimate.py)",
        )

        def check(self) -> None:
            """The keys that tie together (the matrix's shape is checked against the data when the run starts)."""
            if self.transition == "given" and self.matrix is None:
                raise UserError(
                    "method.transition=given needs the matrix itself in method.matrix: a list of C rows of C "
                    "probabilities (row i: the given-label distribution of true class i), e.g. "
                    "method.matrix='[[0.8,0.2],[0.3,0.7]]'."
                )
            if self.transition != "given" and self.matrix is not None:
                raise UserError(
                    f"method.matrix is set, but method.transition={self.transition} does not read it; set "
                    "method.transition=given to use it, or leave method.matrix null."
                )
            if self.correction == "forward" and self.probability_clip is not None:
                raise UserError(
                    f"method.probability_clip={self.probability_clip} clips the backward correction's "
                    "log-probabilities, but method.correction=forward: its loss -log (p^T T)_y is computed exactly "
                    "and is at least 0, so nothing needs bounding. Leave method.probability_clip null, or set "
                    "method.correction=backward."
                )
            if self.transition != "estimated" and self.estimator is not None:
                raise UserError(
                    f"method.estimator is set, but method.transition={self.transition} estimates nothing; set "
                    "method.transition=estimated, or leave method.estimator null."
                )
            if self.transition != "estimated" and self.estimate_at != "final":
                raise UserError(
                    f"method.estimate_at={self.estimate_at} picks the estimator's network, but "
                    f"method.transition={self.transition} estimates nothing; set method.transition=estimated, or "
                    "leave method.estimate_at at final."
                )

    @classmethod
    def planned_checks(cls, config: Mapping[str, Any]) -> list[dict[str, Any]]:
        """An estimated T's check (epoch, diagonal mean, condition number, warnings), before the run starts, where its
        estimator is finished and kept the softmax of the network its rule selects (computed by
        repro/methods/estimated_transition.py: torch). Nothing to compute cheaply for estimate_at=final (it runs the
        estimator's network over the training images: the run records it when it starts), nor where the estimator is
        not ready (the run itself then refuses to start, saying why)."""
        method = config["method"]
        rule = str(method.get("estimate_at", "final"))
        if method.get("transition") != "estimated" or rule not in KEPT:
            return []
        try:
            rd = find_finished_run(method.get("estimator"), config["output_root"], option="estimator")
        except UserError:
            return []
        if not all(f.exists() for f in kept_files(rd.path, rule)):
            return []
        from repro.methods.estimated_transition import planned_check  # deferred: torch (the anchor-point estimate)

        check = planned_check(config, json.dumps(estimate_inputs(config), sort_keys=True, default=str))
        return [] if check is None else [check]

    @classmethod
    def estimate_key(cls, config: Mapping[str, Any]) -> str | None:
        """The T a run of this config will estimate, as a key (None: its T is not estimated): what the estimate
        reads, the kept estimate's inputs (`estimate_inputs`), and with estimate_at=final the run's split too (the
        estimator's network is run over this run's training part; a kept rule reads the estimator's own softmax).
        Runs of one key build the very same T."""
        method = config["method"]
        if method.get("transition") != "estimated":
            return None
        split = config.get("split") if str(method.get("estimate_at", "final")) not in KEPT else None
        return json.dumps({**estimate_inputs(config), "split": split}, sort_keys=True, default=str)


def estimate_inputs(config: Mapping[str, Any]) -> dict[str, Any]:
    """What the kept estimate reads of a config (runs of one cell and seed share their estimator's)."""
    method = config["method"]
    return {
        "output_root": config["output_root"],
        "method": {k: method.get(k) for k in ("estimator", "estimate_at", "anchor_percentile")},
        "data": config["data"],
        "noise": config["noise"],
    }
