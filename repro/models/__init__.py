"""The model zoo: one name -> one freshly initialised network (digits default, the paper's CIFAR networks, and the
1-D networks of MNIST-1D)."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from torch import nn

from repro.conf.networks import NETWORKS, network_keys
from repro.errors import UserError
from repro.models.alexnet import AlexNetCifar
from repro.models.cifar_resnet import resnet32_cifar, resnet56_cifar
from repro.models.signal import SignalCNN, SignalMLP
from repro.models.small_cnn import SmallCNN, TinyCNN
from repro.models.vgg import VGG16
from repro.models.wide_resnet import WideResNet
from repro.schema import build, check_node


def resnet18_cifar(*, num_classes: int, in_channels: int = 3, width: int = 64) -> nn.Module:
    """repro/models/resnet.py's ResNet18, imported on first use: it is built from torchvision's, and importing
    torchvision costs about 1.3 s of CPU (its package imports torch._dynamo), which every process that trains
    another network (the digits runs, each SLURM job, each `repro` command) would otherwise pay."""
    from repro.models.resnet import resnet18_cifar as build  # deferred: torchvision is heavy (above)

    return build(num_classes=num_classes, in_channels=in_channels, width=width)


# Each network from the run's classes, input channels and input size (a square image's side, a signal's length) and
# its own keys (repro/conf/networks.py: its width, WRN's depth).
_BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "smallcnn": lambda *, image_size, **keys: SmallCNN(**keys),
    "tinycnn": lambda *, image_size, **keys: TinyCNN(**keys),
    "resnet18": lambda *, image_size, **keys: resnet18_cifar(**keys),
    "vgg16": lambda *, image_size, **keys: VGG16(**keys),
    "alexnet": lambda *, image_size, **keys: AlexNetCifar(**keys),
    "wrn28_10": lambda *, image_size, **keys: WideResNet(**keys),
    "resnet32": lambda *, image_size, **keys: resnet32_cifar(**keys),
    "resnet56": lambda *, image_size, **keys: resnet56_cifar(**keys),
    "cnn1d": lambda *, image_size, **keys: SignalCNN(length=image_size, **keys),
    "mlp": lambda *, image_size, **keys: SignalMLP(length=image_size, **keys),
}

# The networks that read signals [N, C, 1, length] (data.image_size is the length), built for that length; the
# others read square images [N, C, size, size] of any size from their minimum on.
SIGNAL_MODELS: frozenset[str] = frozenset({"cnn1d", "mlp"})

MODEL_NAMES: tuple[str, ...] = tuple(_BUILDERS)

# Smallest input each network is meant for: the CIFAR nets pool 32x32 down to 1x1 or 2x2; the 1-D CNN halves its
# signal three times.
MIN_IMAGE_SIZE: dict[str, int] = {
    "smallcnn": 8,
    "tinycnn": 8,
    "resnet18": 32,
    "vgg16": 32,
    "alexnet": 32,
    "wrn28_10": 32,
    "resnet32": 32,
    "resnet56": 32,
    "cnn1d": 8,
    "mlp": 1,
}


def input_shape(name: str, in_channels: int, image_size: int) -> tuple[int, int, int]:
    """(C, H, W) of one input of network `name`: a signal (C, 1, length) for the 1-D networks, else a square image."""
    return (in_channels, 1, image_size) if name in SIGNAL_MODELS else (in_channels, image_size, image_size)


def check_input(name: str, shape: tuple[int, ...], data_name: str) -> None:
    """Refuse a data set whose stored inputs (C, H, W) are not what network `name` reads, before the first step."""
    if name in SIGNAL_MODELS and (len(shape) != 3 or shape[1] != 1):
        raise UserError(
            f"Model {name!r} reads 1-D signals [C, 1, length], but data {data_name!r} gives images of shape "
            f"{list(shape)}. Use it with data=mnist1d, or pick an image network (smallcnn for digits)."
        )
    if name not in SIGNAL_MODELS and len(shape) == 3 and shape[1] == 1 and shape[2] > 1:
        raise UserError(
            f"Model {name!r} reads square images, but data {data_name!r} gives 1-D signals of shape {list(shape)}. "
            f"Use a 1-D network: {', '.join(sorted(SIGNAL_MODELS))} (model=cnn1d)."
        )


def _require_int(value: object, what: str, minimum: int, hint: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UserError(f"{what} must be an integer >= {minimum}, got {value!r}. {hint}")
    return value


def build_model(name: str, *, num_classes: int, in_channels: int = 3, image_size: int = 32, **keys: Any) -> nn.Module:
    """Build a freshly initialised network by name (see MODEL_NAMES), in train mode. `keys`: the network's own
    config keys (repro/conf/networks.py: its width, ...), checked against their declaration; those not given take
    their defaults.

    image_size is checked against the network's minimum input size, so a mismatch between data and model fails
    here with a clear message instead of deep inside the first forward pass.
    """
    if name not in _BUILDERS:
        raise UserError(
            f"Unknown model {name!r}. Valid model names are: {', '.join(MODEL_NAMES)}. "
            "Pick one of them (for example `model=resnet18` on the command line)."
        )
    _require_int(num_classes, "num_classes", 2, "Use the number of classes of the data set (10 for digits/CIFAR-10).")
    _require_int(in_channels, "in_channels", 1, "Use 1 for grey-scale images (digits) and 3 for colour (CIFAR).")
    minimum = MIN_IMAGE_SIZE[name]
    _require_int(
        image_size,
        "image_size",
        minimum,
        f"Model {name!r} needs inputs of at least {minimum} pixels (a side of a square image, a signal's length); "
        "use smallcnn for the 8x8 digits, a CIFAR network for 32x32 images, cnn1d or mlp for MNIST-1D.",
    )
    node = {"name": name, **keys}
    check_node(NETWORKS[name], node, "model")
    built = build(NETWORKS[name], node)
    own = {key: getattr(built, key) for key in network_keys(name)}
    return _BUILDERS[name](num_classes=num_classes, in_channels=in_channels, image_size=image_size, **own)


def build_run_model(model: Mapping[str, Any], data: Mapping[str, Any], *, num_classes: int | None = None) -> nn.Module:
    """The network of a run's config: its `model` node (the network's name and keys) for its `data` node's input
    channels and size, with `num_classes` (default: the data node's)."""
    keys = {k: v for k, v in model.items() if k != "name"}
    return build_model(
        str(model["name"]),
        num_classes=int(data["num_classes"]) if num_classes is None else num_classes,
        in_channels=int(data["in_channels"]),
        image_size=int(data["image_size"]),
        **keys,
    )


__all__ = [
    "MODEL_NAMES",
    "MIN_IMAGE_SIZE",
    "SIGNAL_MODELS",
    "build_model",
    "build_run_model",
    "check_input",
    "input_shape",
]
