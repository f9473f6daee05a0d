"""The model zoo: output shapes, parameter counts derived from each architecture, pure (jvp-able) forwards."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from repro.errors import UserError
from repro.models import MODEL_NAMES, build_model

CIFAR_MODELS = ("resnet18", "vgg16", "alexnet", "wrn28_10", "resnet32", "resnet56")


def conv(cin: int, cout: int, k: int, bias: bool = False) -> int:
    return cin * cout * k * k + (cout if bias else 0)


def bn(c: int) -> int:
    return 2 * c


def linear(cin: int, cout: int) -> int:
    return cin * cout + cout


def resnet18_params(cin: int, classes: int) -> int:
    total = conv(cin, 64, 3) + bn(64)
    planes = 64
    for width, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        for block in range(2):
            s = stride if block == 0 else 1
            total += conv(planes, width, 3) + bn(width) + conv(width, width, 3) + bn(width)
            if s != 1 or planes != width:
                total += conv(planes, width, 1) + bn(width)
            planes = width
    return total + linear(512, classes)


def vgg16_params(cin: int, classes: int) -> int:
    widths = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    total, planes = 0, cin
    for width in widths:
        total += conv(planes, width, 3, bias=True) + bn(width)
        planes = width
    return total + linear(512, classes)


def alexnet_params(cin: int, classes: int) -> int:
    convs = conv(cin, 64, 3, True) + conv(64, 192, 3, True) + conv(192, 384, 3, True)
    convs += conv(384, 256, 3, True) + conv(256, 256, 3, True)
    return convs + linear(1024, 4096) + linear(4096, 4096) + linear(4096, classes)


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


def cifar_resnet_params(cin: int, classes: int, n: int) -> int:
    """He et al.'s CIFAR ResNet (depth 6n + 2): option-A shortcuts have no parameters."""
    total, planes = conv(cin, 16, 3) + bn(16), 16
    for width in (16, 32, 64):
        for _ in range(n):
            total += conv(planes, width, 3) + bn(width) + conv(width, width, 3) + bn(width)
            planes = width
    return total + linear(64, classes)


def smallcnn_params(cin: int, classes: int) -> int:
    return conv(cin, 32, 3) + bn(32) + conv(32, 64, 3) + bn(64) + conv(64, 128, 3) + bn(128) + linear(128, classes)


def tinycnn_params(cin: int, classes: int) -> int:
    return conv(cin, 16, 3) + bn(16) + conv(16, 32, 3) + bn(32) + linear(32, classes)


def conv1d(cin: int, cout: int, k: int) -> int:
    return cin * cout * k


def cnn1d_params(cin: int, classes: int, length: int = 32) -> int:
    """Three stride-2 convolutions (32 -> 16 -> 8 -> 4 positions at the test's length 32), flattened."""
    convs = conv1d(cin, 32, 5) + bn(32) + conv1d(32, 32, 3) + bn(32) + conv1d(32, 32, 3) + bn(32)
    return convs + linear(32 * length // 8, classes)


def mlp_params(cin: int, classes: int, length: int = 32) -> int:
    return linear(cin * length, 100) + linear(100, 100) + linear(100, classes)


EXPECTED_PARAMS = {
    "smallcnn": smallcnn_params,
    "tinycnn": tinycnn_params,
    "resnet18": resnet18_params,
    "vgg16": vgg16_params,
    "alexnet": alexnet_params,
    "wrn28_10": wrn_params,
    "resnet32": lambda cin, classes: cifar_resnet_params(cin, classes, 5),
    "resnet56": lambda cin, classes: cifar_resnet_params(cin, classes, 9),
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
