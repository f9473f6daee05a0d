"""The model zoo: output shapes, parameter counts derived from each architecture, pure (jvp-able) forwards."""

from __future__ import annotations

import copy
import re

import pytest
import torch
from torch import nn

from repro.conf.networks import NETWORKS
from repro.errors import UserError
from repro.models import MODEL_NAMES, build_model
from repro.schema import fields_of

CIFAR_MODELS = ("resnet18", "vgg16", "alexnet", "wrn28_10", "resnet32", "resnet56")


def conv(cin: int, cout: int, k: int, bias: bool = False) -> int:
    return cin * cout * k * k + (cout if bias else 0)


def bn(c: int) -> int:
    return 2 * c


def linear(cin: int, cout: int) -> int:
    return cin * cout + cout


def resnet18_params(cin: int, classes: int, w: int = 64) -> int:
    total = conv(cin, w, 3) + bn(w)
    planes = w
    for width, stride in ((w, 1), (2 * w, 2), (4 * w, 2), (8 * w, 2)):
        for block in range(2):
            s = stride if block == 0 else 1
            total += conv(planes, width, 3) + bn(width) + conv(width, width, 3) + bn(width)
            if s != 1 or planes != width:
                total += conv(planes, width, 1) + bn(width)
            planes = width
    return total + linear(8 * w, classes)


def vgg16_params(cin: int, classes: int, w: int = 64) -> int:
    widths = [c * w // 64 for c in (64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512)]
    total, planes = 0, cin
    for width in widths:
        total += conv(planes, width, 3, bias=True) + bn(width)
        planes = width
    return total + linear(planes, classes)


def alexnet_params(cin: int, classes: int, w: int = 64, hidden: int = 4096) -> int:
    convs = conv(cin, w, 3, True) + conv(w, 3 * w, 3, True) + conv(3 * w, 6 * w, 3, True)
    convs += conv(6 * w, 4 * w, 3, True) + conv(4 * w, 4 * w, 3, True)
    return convs + linear(16 * w, hidden) + linear(hidden, hidden) + linear(hidden, classes)


def wrn_params(cin: int, classes: int, depth: int = 28, k: int = 10) -> int:
    n = (depth - 4) // 6
    total, planes = conv(cin, 16, 3), 16
    for width, stride in ((16 * k, 1), (32 * k, 2), (64 * k, 2)):
        for block in range(n):
            s = stride if block == 0 else 1
            total += bn(planes) + conv(planes, width, 3) + bn(width) + conv(width, width, 3)
            if s != 1 or planes != width:
                total += conv(planes, width, 1)
            planes = width
    return total + bn(planes) + linear(planes, classes)


def cifar_resnet_params(cin: int, classes: int, n: int, w: int = 16) -> int:
    """He et al.'s CIFAR ResNet (depth 6n + 2): option-A shortcuts have no parameters."""
    total, planes = conv(cin, w, 3) + bn(w), w
    for width in (w, 2 * w, 4 * w):
        for _ in range(n):
            total += conv(planes, width, 3) + bn(width) + conv(width, width, 3) + bn(width)
            planes = width
    return total + linear(4 * w, classes)


def smallcnn_params(cin: int, classes: int, w: int = 32) -> int:
    convs = conv(cin, w, 3) + bn(w) + conv(w, 2 * w, 3) + bn(2 * w) + conv(2 * w, 4 * w, 3) + bn(4 * w)
    return convs + linear(4 * w, classes)


def tinycnn_params(cin: int, classes: int, w: int = 16) -> int:
    return conv(cin, w, 3) + bn(w) + conv(w, 2 * w, 3) + bn(2 * w) + linear(2 * w, classes)


def conv1d(cin: int, cout: int, k: int) -> int:
    return cin * cout * k


def cnn1d_params(cin: int, classes: int, c: int = 32, length: int = 32) -> int:
    """Three stride-2 convolutions (32 -> 16 -> 8 -> 4 positions at the test's length 32), flattened."""
    convs = conv1d(cin, c, 5) + bn(c) + conv1d(c, c, 3) + bn(c) + conv1d(c, c, 3) + bn(c)
    return convs + linear(c * length // 8, classes)


def mlp_params(cin: int, classes: int, hidden: int = 100, length: int = 32) -> int:
    return linear(cin * length, hidden) + linear(hidden, hidden) + linear(hidden, classes)


EXPECTED_PARAMS = {
    "smallcnn": smallcnn_params,
    "tinycnn": tinycnn_params,
    "resnet18": resnet18_params,
    "vgg16": vgg16_params,
    "alexnet": alexnet_params,
    "wrn28_10": wrn_params,
    "resnet32": lambda cin, classes, *w: cifar_resnet_params(cin, classes, 5, *w),
    "resnet56": lambda cin, classes, *w: cifar_resnet_params(cin, classes, 9, *w),
    "cnn1d": cnn1d_params,
    "mlp": mlp_params,
}

# Counts usually quoted for the CIFAR-10 forms (kuangliu/pytorch-cifar, the WRN paper's "36.5M").
# ResNet-32/56: He et al. 2016, Table 6 ("0.46M", "0.85M"); the exact counts of their option-A form.
PUBLISHED_CIFAR10_PARAMS = {
    "resnet18": 11_173_962,
    "vgg16": 14_728_266,
    "wrn28_10": 36_479_194,
    "resnet32": 464_154,
    "resnet56": 853_018,
}


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", CIFAR_MODELS)
@pytest.mark.slow
def test_cifar_models_map_32x32_batches_to_class_logits(name: str) -> None:
    torch.manual_seed(0)
    for classes in (10, 100):
        model = build_model(name, num_classes=classes, in_channels=3, image_size=32)
        assert model.training
        logits = model(torch.randn(2, 3, 32, 32))
        assert logits.shape == (2, classes)
        assert torch.isfinite(logits).all()


def test_smallcnn_handles_digits_and_other_sizes_and_channels() -> None:
    torch.manual_seed(0)
    model = build_model("smallcnn", num_classes=10, in_channels=1, image_size=8)
    assert model(torch.randn(2, 1, 8, 8)).shape == (2, 10)
    model = build_model("smallcnn", num_classes=7, in_channels=3, image_size=13)
    assert model(torch.randn(2, 3, 13, 13)).shape == (2, 7)


@pytest.mark.parametrize("name", ("resnet18", "vgg16", "alexnet"))
def test_cifar_models_accept_larger_images(name: str) -> None:
    model = build_model(name, num_classes=10, in_channels=1, image_size=40)
    assert model(torch.randn(2, 1, 40, 40)).shape == (2, 10)


@pytest.mark.parametrize("name", MODEL_NAMES)
@pytest.mark.parametrize("classes", (10, 100))
@pytest.mark.slow
def test_parameter_counts_match_the_architecture(name: str, classes: int) -> None:
    in_channels = 1 if name == "smallcnn" else 3
    image_size = 8 if name == "smallcnn" else 32
    model = build_model(name, num_classes=classes, in_channels=in_channels, image_size=image_size)
    assert count(model) == EXPECTED_PARAMS[name](in_channels, classes)
    if classes == 10 and name in PUBLISHED_CIFAR10_PARAMS:
        assert count(model) == PUBLISHED_CIFAR10_PARAMS[name]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_no_in_place_activations_and_no_dropout(name: str) -> None:
    model = build_model(name, num_classes=10)
    for module in model.modules():
        assert not getattr(module, "inplace", False), f"{type(module).__name__} is in place"
        assert not isinstance(module, nn.modules.dropout._DropoutNd)


@pytest.mark.parametrize("name", ("smallcnn", "resnet18", "alexnet"))
def test_every_parameter_receives_a_gradient(name: str) -> None:
    model = build_model(name, num_classes=10)
    model(torch.randn(2, 3, 32, 32)).sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []


# Each network at keys other than its defaults (small, so the test is quick), with its expected parameter count.
OTHER_KEYS = {
    "smallcnn": ({"width": 8}, (8,)),
    "tinycnn": ({"width": 4}, (4,)),
    "resnet18": ({"width": 8}, (8,)),
    "vgg16": ({"width": 8}, (8,)),
    "alexnet": ({"width": 8, "hidden": 32}, (8, 32)),
    "wrn28_10": ({"depth": 10, "widen_factor": 1}, (10, 1)),
    "resnet32": ({"width": 4}, (4,)),
    "resnet56": ({"width": 4}, (4,)),
    "cnn1d": ({"channels": 8}, (8,)),
    "mlp": ({"hidden": 12}, (12,)),
}


def test_every_network_declares_its_keys_with_its_constructors_defaults() -> None:
    """repro/conf/networks.py names exactly the networks the zoo builds, and a network built without keys is the
    one built at the declared defaults (the same random draws: the same weights)."""
    assert set(NETWORKS) == set(MODEL_NAMES) == set(OTHER_KEYS)
    for name in MODEL_NAMES:
        defaults = {f.name: f.default_value() for f in fields_of(NETWORKS[name]) if f.name != "name"}
        assert set(defaults) == set(OTHER_KEYS[name][0]), name
        size = 32 if name in CIFAR_MODELS else 16
        torch.manual_seed(0)
        plain = build_model(name, num_classes=10, image_size=size)
        torch.manual_seed(0)
        keyed = build_model(name, num_classes=10, image_size=size, **defaults)
        assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(), keyed.state_dict().values())), name


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_a_networks_keys_build_the_architecture_they_name(name: str) -> None:
    keys, args = OTHER_KEYS[name]
    size, channels = (32, 3) if name in CIFAR_MODELS else (8 if name in ("smallcnn", "tinycnn") else 32, 1)
    model = build_model(name, num_classes=10, in_channels=channels, image_size=size, **keys)
    if name == "wrn28_10":
        assert count(model) == wrn_params(channels, 10, *args)
    else:
        assert count(model) == EXPECTED_PARAMS[name](channels, 10, *args)
    shape = (2, channels, 1, size) if name in ("cnn1d", "mlp") else (2, channels, size, size)
    assert model(torch.randn(shape)).shape == (2, 10)


@pytest.mark.parametrize(
    ("name", "keys", "said"),
    (
        ("cnn1d", {"channels": 0}, "model.channels=0"),
        ("wrn28_10", {"depth": 27}, "6n + 4"),
        ("resnet18", {"channels": 8}, "model.channels is not a key"),
        ("mlp", {"hidden": 1.5}, "model.hidden=1.5"),
    ),
)
def test_a_bad_network_key_is_a_user_error_naming_it(name: str, keys: dict, said: str) -> None:
    with pytest.raises(UserError, match=re.escape(said)):
        build_model(name, num_classes=10, image_size=40, **keys)


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(UserError) as excinfo:
        build_model("resnet50", num_classes=10)
    for name in MODEL_NAMES:
        assert name in str(excinfo.value)


@pytest.mark.parametrize(
    "kwargs",
    (
        {"name": "resnet18", "num_classes": 10, "image_size": 8},
        {"name": "smallcnn", "num_classes": 10, "image_size": 4},
        {"name": "smallcnn", "num_classes": 1},
        {"name": "smallcnn", "num_classes": 10, "in_channels": 0},
        {"name": "smallcnn", "num_classes": 10.0},
        {"name": "smallcnn", "num_classes": True},
    ),
)
def test_bad_sizes_raise_user_error(kwargs: dict) -> None:
    with pytest.raises(UserError):
        build_model(**kwargs)


@pytest.mark.parametrize("name", ("smallcnn", "resnet18"))
@pytest.mark.slow
def test_jvp_through_functional_call_in_train_mode(name: str) -> None:
    """torch.func.jvp works with cloned BatchNorm buffers, leaves the real ones alone, and equals J t computed
    independently by reverse-over-reverse autograd."""
    torch.manual_seed(0)
    model = build_model(name, num_classes=10, in_channels=3, image_size=32).double().train()
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach().clone() for k, v in model.named_buffers()}
    before = {k: v.clone() for k, v in buffers.items()}

    def logits(p: dict[str, torch.Tensor]) -> torch.Tensor:
        fresh = {k: v.clone() for k, v in buffers.items()}
        return torch.func.functional_call(model, (p, fresh), (x,))

    tangent = {k: torch.randn_like(v) for k, v in params.items()}
    out, jvp_out = torch.func.jvp(logits, (params,), (tangent,))

    for key, value in model.named_buffers():
        assert torch.equal(value, before[key]), f"buffer {key} changed"

    # Reference: J t = d/du <J^T u, t>, with J^T u from a backward pass that keeps its graph.
    reference_model = copy.deepcopy(model)
    ref_params = list(reference_model.parameters())
    ref_out = reference_model(x)
    torch.testing.assert_close(ref_out, out)
    u = torch.zeros_like(ref_out, requires_grad=True)
    vjp = torch.autograd.grad(ref_out, ref_params, grad_outputs=u, create_graph=True)
    inner = sum((g * tangent[k]).sum() for g, (k, _) in zip(vjp, reference_model.named_parameters()))
    (reference_jvp,) = torch.autograd.grad(inner, u)
    assert jvp_out.abs().max() > 0
    torch.testing.assert_close(jvp_out, reference_jvp, rtol=1e-7, atol=1e-9)
