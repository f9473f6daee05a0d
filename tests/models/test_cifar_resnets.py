"""He et al.'s CIFAR ResNet-32 / ResNet-56 (Lukasik et al.'s networks): depth 6n + 2, option-A shortcuts, the
published parameter counts, and one training step through `repro train` on fabricated CIFAR-10."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from presets import QUIET
from repro.cli import main
from repro.models import build_model
from testing_support.published_files import write_cifar10


@pytest.mark.parametrize("name, n, published", [("resnet32", 5, 0.46e6), ("resnet56", 9, 0.85e6)])
def test_depth_and_parameter_count_are_he_et_al_s(name, n, published):
    model = build_model(name, num_classes=10)
    weighted = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(weighted) == 6 * n + 2  # option A: no 1x1 projection convs on the shortcuts
    params = sum(p.numel() for p in model.parameters())
    assert round(params / 1e6, 2) == published / 1e6


def test_option_a_shortcut_subsamples_and_zero_pads():
    model = build_model("resnet32", num_classes=10)
    block = model.layers[5]  # the first block of stage 2: 16 -> 32 channels, stride 2
    x = torch.randn(2, 16, 32, 32)
    out = block.shortcut(x)
    assert out.shape == (2, 32, 16, 16)
    assert torch.equal(out[:, 8:24], x[:, :, ::2, ::2])
    assert not out[:, :8].any() and not out[:, 24:].any()


@pytest.mark.parametrize("name", ["resnet32", "resnet56"])
def test_trains_a_step_on_fabricated_cifar(name, tmp_path, monkeypatch):
    fake = write_cifar10(tmp_path / "data")
    fake.patch_checksums(monkeypatch)
    code = main(
        [
            "train",
            f"model={name}",
            "data=cifar10",
            f"data.root={tmp_path / 'data'}",
            "split=full",
            "optim.epochs=1",
            *QUIET,
            "device=cpu",
            f"output_root={tmp_path / 'out'}",
        ]
    )
    assert code == 0
    (run,) = list((tmp_path / "out" / "runs").iterdir())
    assert run.name.startswith(f"cifar10-{name}-baseline-")
    (row,) = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert torch.isfinite(torch.tensor(row["train_loss"]))
    config = (run / "config.yaml").read_text()
    assert "weight_decay: 0.0001" in config and "schedule: multistep" in config  # He et al.'s preset (optim=${model})
