"""The declaration of CoTeaching (repro/methods/coteaching.py): its options and what a plan asks of it. Co-teaching
(Han et al., 2018): two networks, each trained on the other's small-loss samples."""

from __future__ import annotations

from typing import Literal

from repro.methods.declaration import MethodDeclaration
from repro.schema import option, schema
from repro.training.step_cost import TWO_NETWORKS


class CoTeachingDeclaration(MethodDeclaration):
    trainer = "repro.methods.coteaching:CoTeaching"
    step_cost = TWO_NETWORKS  # both networks train on every batch

    @schema
    class Options:
        forget_rate: float | None = option(
            ge=0,
            lt=1,
            why="the share of each batch a network drops as likely noisy",
            hint="leave it null to use the run's actual noise rate as the authors do, or set e.g. "
            "method.forget_rate=0.4",
        )
        default_forget_rate: Literal["actual_noise_rate", "noise_fraction"] = option(
            default="actual_noise_rate",
            why="what a null forget rate means: actual_noise_rate, the expected share of wrong training labels under "
            "the run's noise model (the authors' tau = epsilon), or noise.fraction",
        )
        num_gradual: int = option(
            ge=0,
            why="epochs over which the forget rate rises (T_k)",
            hint="the authors use 10; 0 drops the full forget rate from the first epoch",
        )
        exponent: float = option(gt=0, why="the forget-rate exponent (c)", hint="the authors use 1, and try 0.5 and 2")

    @classmethod
    def epoch_eval_images(cls, n_train: int, n_meta: int, n_test: int) -> int:
        return n_test  # end_epoch: network 2's test accuracy
