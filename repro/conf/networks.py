"""Each network's config keys (`model.*`): its width, and its depth where the paper varies it (WRN-28-10's 28 and
10), declared apart from repro/conf/schema.py's groups and light like it: planning a sweep must not import
repro/models/ (torch, torchvision). `model=<name>` picks the network and its YAML file (repro/conf/model/) its
values; repro/models/ builds each network from these keys.

Every key defaults to the width the network had before it was a key, and is `neutral` there: a run at the default
has the run id it always had, and only a run at another width gets another id."""

from __future__ import annotations

from typing import Any, Mapping

from repro.errors import UserError
from repro.schema import fields_of, option, refuse, schema

__all__ = ["NETWORKS", "network_keys", "network_schema"]

_NAME = "the network (model=<name> picks it and its keys)"


@schema
class SmallCnnKeys:
    """smallcnn (digits): three conv-BN-ReLU layers of `width`, 2x and 4x channels (repro/models/small_cnn.py)."""

    name: str = option(choices=lambda: tuple(NETWORKS), why=_NAME)
    width: int = option(default=32, neutral=32, ge=1, why="the first conv's channels (the next two: 2x and 4x)")


@schema
class TinyCnnKeys:
    """tinycnn (the digits student): two conv-BN-ReLU layers of `width` and 2x channels."""

    name: str = option(choices=lambda: tuple(NETWORKS), why=_NAME)
    width: int = option(default=16, neutral=16, ge=1, why="the first conv's channels (the second: 2x)")


@schema
class ResNet18Keys:
    """resnet18 (CIFAR form): four stages of two BasicBlocks, `width` x 1, 2, 4, 8 channels (repro/models/resnet.py)."""

    name: str = option(choices=lambda: tuple(NETWORKS), why=_NAME)
    width: int = option(default=64, neutral=64, ge=1, why="the stem's and first stage's channels (then 2x, 4x, 8x)")


@schema
class Vgg16Keys:
    """vgg16 (with BatchNorm): torchvision's configuration D, its channels scaled by `width` / 64."""

    name: str = option(choices=lambda: tuple(NETWORKS), why=_NAME)
    width: int = option(default=64, neutral=64, ge=1, why="the first block's channels (the next: 2x, 4x, 8x, 8x)")


@schema
class AlexNetKeys:
    """alexnet (CIFAR form, the paper's student): five convs of `width` x 1, 3, 6, 4, 4 channels, then two hidden
    fully-connected layers of `hidden` units (repro/models/alexnet.py)."""

    name: str = option(choices=lambda: tuple(NETWORKS), why=_NAME)
    width: int = option(default=64, neutral=64, ge=1, why="the first conv's channels (the next: 3x, 6x, 4x, 4x)")
    hidden: int = option(default=4096, neutral=4096, ge=1, why="units of each of the two hidden linear layers")


@schema
class WideResNetKeys:
    """wrn28_10: WRN-depth-widen_factor (Zagoruyko and Komodakis), three groups of (depth - 4) / 6 blocks of 16k,
    32k, 64k channels (repro/models/wide_resnet.py); the paper's WRN-28-10 at the defaults."""

    name: str = option(choices=lambda: tuple(NETWORKS), why=_NAME)
    depth: int = option(default=28, neutral=28, ge=10, why="6n + 4 layers: n pre-activation blocks per group")
    widen_factor: int = option(default=10, neutral=10, ge=1, why="k: the groups' channels are 16k, 32k, 64k")

    def check(self) -> None:
        if (self.depth - 4) % 6:
            raise UserError(
                f"model.depth={self.depth}: a Wide-ResNet's depth is 6n + 4 (n blocks in each of its three groups): "
                f"{', '.join(str(6 * n + 4) for n in (1, 2, 3, 4, 6))}, ... Set model.depth to one of them (the "
                "paper's WRN-28-10: 28). Nothing was run or written."
            )


@schema
class CifarResNetKeys:
    """resnet32 / resnet56 (He et al.'s CIFAR ResNets, Lukasik et al.'s networks): three stages of `width` x 1, 2, 4
    channels (repro/models/cifar_resnet.py); the name says the depth."""

    name: str = option(choices=lambda: tuple(NETWORKS), why=_NAME)
    width: int = option(default=16, neutral=16, ge=1, why="the stem's and first stage's channels (then 2x, 4x)")


@schema
class SignalCnnKeys:
    """cnn1d (MNIST-1D): three strided 1-D conv-BN-ReLU layers of `channels` each (repro/models/signal.py)."""

    name: str = option(choices=lambda: tuple(NETWORKS), why=_NAME)
    channels: int = option(default=32, neutral=32, ge=1, why="channels of each of the three 1-D convolutions")


@schema
class SignalMlpKeys:
    """mlp (MNIST-1D): two hidden layers of `hidden` units (repro/models/signal.py)."""

    name: str = option(choices=lambda: tuple(NETWORKS), why=_NAME)
    hidden: int = option(default=100, neutral=100, ge=1, why="units of each of the two hidden layers")


# model.name -> the network's keys; tests/models/ checks these are the networks repro/models/ builds, with the
# constructors' own defaults.
NETWORKS: dict[str, type] = {
    "smallcnn": SmallCnnKeys,
    "tinycnn": TinyCnnKeys,
    "resnet18": ResNet18Keys,
    "vgg16": Vgg16Keys,
    "alexnet": AlexNetKeys,
    "wrn28_10": WideResNetKeys,
    "resnet32": CifarResNetKeys,
    "resnet56": CifarResNetKeys,
    "cnn1d": SignalCnnKeys,
    "mlp": SignalMlpKeys,
}


def network_schema(node: Any, key: str) -> type:
    """The schema of a `model` node: the keys of the network its `name` names."""
    name = node.get("name") if isinstance(node, Mapping) else None
    if name not in NETWORKS:
        refuse(f"{key}.name", name, "one of " + ", ".join(repr(n) for n in NETWORKS) + " (model=<name> picks it)")
    return NETWORKS[name]


def network_keys(name: str) -> tuple[str, ...]:
    """The keys of network `name` beside its name (its width, ...)."""
    return tuple(f.name for f in fields_of(NETWORKS[name]) if f.name != "name")
