"""The declaration of L2RW (repro/methods/l2rw.py): its options and what a plan asks of it. Learning to reweight (Ren
et al., 2018): per-batch weights from a look-ahead meta-gradient."""

from __future__ import annotations

from repro.methods.declaration import MethodDeclaration
from repro.schema import option, schema
from repro.training.step_cost import WEIGHT_LOOKAHEAD


class L2RWDeclaration(MethodDeclaration):
    trainer = "repro.methods.l2rw:L2RW"
    step_cost = WEIGHT_LOOKAHEAD  # per-batch weights from a look-ahead meta-gradient
    needs_meta_set = True

    @schema
    class Options:
        meta_batch_size: int = option(ge=1, why="clean samples per step (Ren et al.: 100 on CIFAR)")
        lookahead_weight_decay: bool = option(
            why="false, as Ren et al.'s code: the meta-gradient is taken at the current parameters, without a "
            "weight-decay shrink"
        )
        meta_cost_weight_decay: bool = option(
            default=True,
            why="true, as Ren et al.'s code: the meta cost carries the L2 weight-decay term; false: the clean meta "
            "batch's cross-entropy alone",
        )
