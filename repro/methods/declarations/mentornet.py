"""The declaration of MentorNet (repro/methods/mentornet/student.py): its options and what a plan asks of it. MentorNet
(Jiang et al., 2018): the StudentNet weighted by a mentor, and the run that trains the mentors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from repro.errors import UserError
from repro.methods.declaration import MethodDeclaration
from repro.schema import option, schema
from repro.training.step_cost import PLAIN

PRE_DEFINED = "pd"  # the curriculum whose mentor may miss a rule (`seeds_may_collapse`)


class MentorNetDeclaration(MethodDeclaration):
    trainer = "repro.methods.mentornet.student:MentorNet"
    step_cost = PLAIN  # one forward and backward; the mentor's forward on the batch's losses is a few hundred FLOPs
    source_option = "mentor"

    @schema
    class Options:
        """The values and their sources: repro/conf/method/mentornet.yaml, docs/methods/mentornet.md."""

        curriculum: Literal["pd", "dd"] = option(
            why="the mentor: pd (imitates the pre-defined curriculum) or dd (learned from a dump with clean labels)"
        )
        mentor: str | None = option(
            why="the mentor run (method=mentornet_mentor): its run id under <output_root>/runs/ or its directory "
            "(a sweep's `teacher:` sets it)"
        )
        loss_percentile: float | None = option(
            gt=0, le=1, why="p of the batch's loss percentile (null: the authors' value for the run's noise fraction)"
        )
        moving_average_decay: float = option(ge=0, lt=1, why="the percentile's moving average decay")
        burn_in_epoch: int | None = option(
            ge=0, le=100, why="every weight is 1 below this epoch percentage minus 1 (null: the curriculum's)"
        )
        fixed_epoch_after_burn_in: bool | None = option(
            why="the epoch feature stops at the burn-in epoch (null: the curriculum's, dd true, pd false)"
        )
        example_dropout_rates: list[float] | None = option(
            why="[rate, epochs]+ over the 100 epoch percentages, epochs adding up to 100 (null: the curriculum's)"
        )
        decay_scaled_by_weights: bool = option(why="weight decay times mean(v), as their ResNet script")

        def check(self) -> None:
            if self.example_dropout_rates is not None:
                try:
                    from repro.methods.mentornet.weighting import dropout_rates  # deferred: torch (the mentor)

                    dropout_rates(self.example_dropout_rates)
                except ValueError as exc:
                    raise UserError(
                        f"method.example_dropout_rates={self.example_dropout_rates}: {exc}. It is their "
                        "--example_dropout_rates, [rate, epochs]+ with the epochs adding up to 100, e.g. [0.5, 17, "
                        "0.05, 83] (repro/conf/method/mentornet.yaml), or null for the curriculum's."
                    ) from None

    @classmethod
    def seeds_may_collapse(cls, config: Mapping[str, Any]) -> str | None:
        """The PD mentor may miss its curriculum's first rule (docs/methods/mentornet.md, "Initialisations of a
        mentor"): its student's seed then ends far below the others (digits: 69.8% against 89.2-90.7%). The best of
        `mentor_inits` starting points makes that rarer, not impossible. DD's mentor did not vary so."""
        if config.get("method", {}).get("curriculum") != PRE_DEFINED:
            return None
        return (
            "MentorNet's PD mentor can miss its curriculum's first rule from some starting weights, and its student's "
            "seed then ends far below the others"
        )


class MentorRunDeclaration(MethodDeclaration):
    trainer = "repro.methods.mentornet.mentor_run:MentorRun"
    step_cost = PLAIN  # one forward and backward; the dump is an indexed copy of the batch's losses

    @schema
    class Options:
        """The values and their sources: repro/conf/method/mentornet_mentor.yaml, docs/methods/mentornet.md."""

        dump_fraction: float = option(
            gt=0, le=1, why="the share of training samples whose per-epoch loss is dumped (TRAINING.md: ~10%)"
        )
        dump_percentile: float = option(
            ge=0, le=100, why="DD's loss difference is the loss minus this percentile of the dump's losses"
        )
        pd_gamma: float = option(gt=0, why="SPCL linear's gamma in vstar_mentornet_pd")
        pd_sample_size: int = option(ge=100, why="rows of the enumerated curriculum kept (their --sample_size)")
        mentor_steps: int = option(ge=1, why="Adam steps of each mentor (their --max_step_train)")
        mentor_lr: float = option(gt=0, why="the mentors' starting learning rate (their --learning_rate)")
        mentor_batch_size: int = option(ge=1, why="the mentors' mini-batch (their --mini_batch_size)")
        mentor_inits: int = option(
            ge=1,
            why="initialisations each mentor trains a tenth of its steps from; the one lowest on its held-out rows "
            "trains on (the authors train one and ship it; from about a fifth the PD mentor misses a rule)",
        )
