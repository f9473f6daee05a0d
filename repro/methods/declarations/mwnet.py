"""The declaration of MetaWeightNet (repro/methods/mwnet.py): its options and what a plan asks of it. Meta-Weight-Net
(Shu et al., 2019): a weighting net learned by the look-ahead meta-gradient."""

from __future__ import annotations

from typing import Literal

from repro.errors import UserError
from repro.methods.declaration import MethodDeclaration
from repro.schema import option, schema
from repro.training.step_cost import WEIGHTING_NET_LOOKAHEAD


class MetaWeightNetDeclaration(MethodDeclaration):
    trainer = "repro.methods.mwnet:MetaWeightNet"
    step_cost = WEIGHTING_NET_LOOKAHEAD  # a look-ahead through the weighting net each step
    needs_meta_set = True

    @schema
    class Options:
        """Shu et al.'s values and where they come from: repro/conf/method/mwnet.yaml."""

        meta_batch_size: int = option(ge=1, why="their meta loader's batch")
        hidden: int = option(ge=1, why="VNet(1, hidden, 1): Linear-ReLU-Linear-sigmoid")
        meta_optimizer: Literal["sgd", "adam"] = option(
            why="the weighting net's optimizer: sgd (their WRN-28-10 script) or adam (their ResNet-32 MW-Net.py)"
        )
        meta_lr: float = option(gt=0, why="the weighting net's learning rate")
        meta_momentum: float = option(ge=0, lt=1, why="the weighting net's momentum (unused by adam)")
        meta_nesterov: bool = option(why="unused by adam")
        meta_weight_decay: float = option(ge=0, why="the weighting net's weight decay")
        normalize: bool = option(why="weights / sum(weights) in the look-ahead and the model step")
        lookahead_weight_decay: bool = option(why="false: their look-ahead is theta - lr * grad")

        def check(self) -> None:
            if self.meta_optimizer == "sgd" and self.meta_nesterov and self.meta_momentum == 0:
                raise UserError(
                    "method.meta_nesterov=true: Nesterov momentum needs method.meta_momentum > 0 "
                    "(repro/conf/method/mwnet.yaml gives Shu et al.'s values). Set method.meta_momentum=0.9 or "
                    "method.meta_nesterov=false."
                )
