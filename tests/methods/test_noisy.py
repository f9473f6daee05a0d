"""The noisy setting (Sec. 3.5): the entropy-weighted curriculum, and instance labels correcting injected noise on
the embedded digits data."""

from __future__ import annotations

import math

import pytest
import torch

from presets import QUIET
from repro.config import load_config
from repro.errors import UserError
from repro.labels import ClassLabels, InstanceLabels
from repro.meta import label_meta_gradient
from repro.methods.curriculum import curriculum_weights, entropy_weights
from repro.models import build_model
from repro.train import train
from testing_support.reference_meta import reference_label_meta_gradient

# ------------------------------------------------------------------------------------------------ the curriculum


def test_entropy_weights_by_hand():
    labels = torch.tensor([[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0.0]])
    # raw weights 1 - H / log 3: 1, 0 and 1 - log 2 / log 3 = 0.3690702; scaled to mean 1 (x 3 / 1.3690702)
    torch.testing.assert_close(entropy_weights(labels), torch.tensor([2.1912720, 0.0, 0.8087280]))


def test_a_batch_of_uniform_labels_gets_equal_weights():
    torch.testing.assert_close(entropy_weights(torch.full((4, 5), 0.2)), torch.ones(4))


def test_curriculum_weights_of_instance_labels_are_detached_and_have_mean_one():
    labels = InstanceLabels(8, 4, torch.tensor([0, 1, 2, 3, 0, 1, 2, 3]), init_target_prob=0.7, lr=1.0)
    labels.logits = torch.randn(8, 4, generator=torch.Generator().manual_seed(0)).requires_grad_()
    idx = torch.tensor([1, 5, 6])
    weights = curriculum_weights("entropy", labels, idx)
    assert not weights.requires_grad and weights.shape == (3,)
    assert float(weights.mean()) == pytest.approx(1.0)
    probs = torch.softmax(labels.logits[idx].detach(), dim=1)
    raw = 1 - (-(probs * probs.log()).sum(dim=1)) / math.log(4)
    torch.testing.assert_close(weights, raw * 3 / raw.sum())
    torch.testing.assert_close(curriculum_weights("none", labels, idx), torch.ones(3))


def test_bad_curricula_are_refused():
    class_labels = ClassLabels(3, init_target_prob=0.9, lr=0.1)
    with pytest.raises(UserError, match="needs instance labels"):
        curriculum_weights("entropy", class_labels, torch.tensor([0]))
    with pytest.raises(UserError, match="not known"):
        curriculum_weights("focal", class_labels, torch.tensor([0]))


def test_weighted_meta_gradient_equals_the_double_backward_reference():
    torch.manual_seed(0)
    model = build_model("smallcnn", num_classes=10, in_channels=1, image_size=8)
    labels = InstanceLabels(16, 10, torch.arange(16) % 10, init_target_prob=0.5, lr=1.0)
    labels.logits += 2 * torch.randn(16, 10)  # labels of clearly different entropies
    idx = torch.arange(16)
    x, x_meta, y_meta = torch.randn(16, 1, 8, 8), torch.randn(12, 1, 8, 8), torch.arange(12) % 10
    p = labels.soft_labels(idx, None)
    weights = curriculum_weights("entropy", labels, idx)
    assert float(weights.max() - weights.min()) > 0.5
    fast = label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.1, weight_decay=5e-4, sample_weight=weights)
    slow = reference_label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.1, weight_decay=5e-4, sample_weight=weights)
    torch.testing.assert_close(fast, slow, rtol=1e-4, atol=1e-7)
    unweighted = label_meta_gradient(model, x, p, x_meta, y_meta, lr=0.1, weight_decay=5e-4)
    assert not torch.allclose(fast, unweighted, rtol=1e-2)


def test_a_run_with_the_curriculum_trains(tmp_path):
    result = train(
        load_config(
            [
                "method=instance_labels",
                "method.curriculum=entropy",
                "noise=uniform",
                "split=noisy",
                "split.meta_fraction=0.1",
                "data.subset=300",
                "optim.epochs=1",
                *QUIET,
                f"output_root={tmp_path}",
            ]
        )
    )
    assert result.run_dir.is_done() and math.isfinite(result.summary["final_test_acc"])


# ------------------------------------------------------------------------------------------------ label correction

# The noisy setting on digits: 40% uniform noise on the training labels, 5% clean meta data (2% of digits would be
# only ~25 samples), instance labels initialised at 0.5 with label lr 200, 30 epochs of the small CNN.
NOISY = [
    "noise=uniform",
    "noise.fraction=0.4",
    "split=noisy",
    "split.meta_fraction=0.05",
    "optim.epochs=30",
    *QUIET,
]


@pytest.mark.slow
@pytest.mark.e2e
def test_instance_labels_correct_noisy_labels_on_digits(tmp_path):
    """Measured with exactly these settings (seeds 0 / 1 / 2, noise seed 0; `repro train` + the overrides below):
    instance labels end with 28% / 33% / 23% of the noisy training labels corrected at top-1 (0% until ~epoch 12),
    99.8% / 99.8% / 99.5% holding the true class in their top-5 (93-94% after epoch 1), no clean label damaged,
    and final test accuracy 0.922 / 0.929 / 0.911 against 0.759 / 0.757 / 0.740 for one-hot labels with the same
    noise. The bounds below sit well under those numbers."""
    learned = train(
        load_config(
            [
                *NOISY,
                f"output_root={tmp_path}",
                "method=instance_labels",
                "method.init_target_prob=0.5",
                "method.label_lr=200",
            ]
        )
    )
    baseline = train(load_config([*NOISY, f"output_root={tmp_path}", "method=baseline"]))

    rows = learned.run_dir.read_metrics()
    corrected = [r["noisy_top1_corrected"] for r in rows]
    assert corrected[0] == 0.0 and corrected[-1] > 0.10  # the run directory shows the correction over epochs
    assert max(corrected[:5]) < corrected[-1] and corrected[-1] >= max(corrected) - 0.05
    assert rows[-1]["noisy_top5_corrected"] > 0.9
    assert rows[-1]["clean_top1_damaged"] < 0.05
    assert rows[-1]["label_noise_top1"] < rows[0]["label_noise_top1"] - 0.03
    assert learned.summary["final_test_acc"] > baseline.summary["final_test_acc"] + 0.05
