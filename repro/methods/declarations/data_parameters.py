"""The declaration of DataParameters (repro/methods/data_parameters.py): its options and what a plan asks of it. Data
parameters (Saxena et al., 2019): learned class and instance temperatures of the logits."""

from __future__ import annotations

from repro.errors import UserError
from repro.methods.declaration import MethodDeclaration
from repro.schema import option, schema
from repro.training.step_cost import PLAIN


class DataParametersDeclaration(MethodDeclaration):
    trainer = "repro.methods.data_parameters:DataParameters"
    step_cost = PLAIN  # one forward; the temperatures update sparsely

    @schema
    class Options:
        """The settings and their sources: repro/conf/method/data_parameters.yaml, docs/methods/data_parameters.md."""

        learn_class: bool = option(why="learn one temperature per class")
        learn_instance: bool = option(why="learn one temperature per training sample (the noisy CIFAR setting)")
        init_class: float = option(gt=0, why="the initial class temperature sigma")
        init_instance: float = option(gt=0, why="the initial instance temperature sigma")
        lr_class: float = option(gt=0, why="the class temperatures' learning rate")
        lr_instance: float = option(gt=0, why="the instance temperatures' learning rate")
        wd_class: float = option(ge=0, why="L2 penalty on the batch's log class temperatures (0: off)")
        wd_instance: float = option(ge=0, why="L2 penalty on the batch's log instance temperatures (0: off)")
        momentum: float = option(ge=0, lt=1, why="the temperatures' SGD momentum (the authors use 0.9)")
        clamp: bool = option(why="clamp sigma to [sigma_min, sigma_max]")
        sigma_min: float = option(gt=0, why="the clamping range's lower end (the authors: 1/20)")
        sigma_max: float = option(gt=0, why="the clamping range's upper end (the authors: 20)")

        def check(self) -> None:
            def bad(key: str, why: str) -> UserError:
                return UserError(
                    f"method.{key}={getattr(self, key)!r}: {why} The data-parameter settings and their sources "
                    "are in repro/conf/method/data_parameters.yaml and docs/methods/data_parameters.md."
                )

            if not (self.learn_class or self.learn_instance):
                raise bad(
                    "learn_instance",
                    "with method.learn_class=false as well nothing is learned; that run is "
                    "method=baseline. Set method.learn_instance=true (the noisy CIFAR setting) "
                    "or method.learn_class=true.",
                )
            if self.clamp:
                lo, hi = float(self.sigma_min), float(self.sigma_max)
                if lo >= hi:
                    raise bad(
                        "sigma_min", f"must be below method.sigma_max={hi} (the authors clamp sigma to [1/20, 20])."
                    )
                for key in ("init_class", "init_instance"):
                    if not lo <= float(getattr(self, key)) <= hi:
                        raise bad(
                            key,
                            f"must lie in the clamping range [method.sigma_min, method.sigma_max] = "
                            f"[{lo}, {hi}], or set method.clamp=false.",
                        )
