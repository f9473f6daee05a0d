"""Losses with a negative weight on a log-probability (backward correction, negative smoothing) are bounded as
Patrini et al. bound theirs: p clipped to [1e-7, 1 - 1e-7] before the log (giorgiop/loss-correction, loss.py
`robust('backward')`; repro.losses.clipped_log_softmax). The loss is flat beyond the clip and equal to the unclipped
loss inside it, its gradient is Keras's, and a run trained before the clip is never taken for one trained after it."""

from __future__ import annotations

import math
import textwrap

import pytest
import torch

import presets
from repro.conf.resolvers import PATRINI_CLIP
from repro.config import load_config, to_container
from repro.losses import clipped_log_softmax
from repro.methods.label_smearing import backward_epsilon, smeared_loss, smoothing_matrix
from repro.methods.loss_correction import backward_corrected_loss
from repro.runs.rundir import RunDir, run_id
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_plan import plan_sweep
from repro.train import train

C = 10
T = 0.8 * torch.eye(C, dtype=torch.float64) + 0.02  # 20% uniform noise that may redraw the true class
T_INV = torch.linalg.inv(T)


def _margin_logits(margin: float) -> torch.Tensor:
    """One sample whose true class 0 leads every other logit by `margin`."""
    logits = torch.zeros(1, C, dtype=torch.float64)
    logits[0, 0] = margin
    return logits


def _backward(margin: float, clip: float | None) -> float:
    return backward_corrected_loss(_margin_logits(margin), torch.tensor([0]), T_INV, clip=clip).item()


def test_the_unclipped_backward_loss_falls_without_end_and_the_clipped_one_is_flat_beyond_the_clip():
    # T^-1 = 1.25 I - 0.025 J: the nine wrong classes weigh -0.025 each, so the raw loss is about -0.225 * margin.
    raw = {m: _backward(m, None) for m in (20, 80, 160)}
    assert raw == pytest.approx({20: -4.5, 80: -18.0, 160: -36.0}, abs=0.01)
    floor = -9 * 0.025 * -math.log(PATRINI_CLIP) + 1.225 * -math.log1p(-PATRINI_CLIP)  # every p at its clip
    assert floor == pytest.approx(-3.63, abs=0.005)
    for margin in (20, 40, 80, 160, 1000):  # at 20 every wrong p is already below 1e-7 (e^-20 = 2e-9)
        assert _backward(margin, PATRINI_CLIP) == pytest.approx(floor, abs=1e-9)


def test_inside_the_clip_the_clipped_loss_and_its_gradient_are_the_unclipped_ones():
    g = torch.Generator().manual_seed(0)
    logits = 3.0 * torch.randn(64, C, generator=g, dtype=torch.float64)  # every p in [1e-7, 1 - 1e-7]
    p = logits.softmax(1)
    assert bool((p > PATRINI_CLIP).all()) and bool((p < 1 - PATRINI_CLIP).all())
    y = torch.randint(0, C, (64,), generator=g)
    grads = []
    for clip in (None, PATRINI_CLIP):
        z = logits.clone().requires_grad_()
        loss = backward_corrected_loss(z, y, T_INV, clip=clip)
        loss.backward()
        grads.append((loss.item(), z.grad))
    assert grads[0][0] == grads[1][0]
    assert torch.equal(grads[0][1], grads[1][1])


def test_the_gradient_is_kerass_log_of_the_clipped_softmax_inside_and_beyond_the_clip():
    """Their loss: log(clip(softmax(z), eps, 1 - eps)); clip_by_value's gradient is zero outside the range. Ours
    clamps the log-probability: the same values and the same gradient, with some entries clipped and some not."""
    logits = torch.tensor([[0.0, 25.0, 1.0, -3.0], [4.0, 4.0, -20.0, 0.5]], dtype=torch.float64)
    t_inv = torch.linalg.inv(0.7 * torch.eye(4, dtype=torch.float64) + 0.075)
    y = torch.tensor([1, 0])
    ours = logits.clone().requires_grad_()
    keras = logits.clone().requires_grad_()
    loss_ours = backward_corrected_loss(ours, y, t_inv, clip=PATRINI_CLIP)
    clipped = keras.softmax(1).clamp(PATRINI_CLIP, 1 - PATRINI_CLIP)  # torch.clamp: zero gradient outside
    loss_keras = -(t_inv[y] * clipped.log()).sum(1).mean()
    loss_ours.backward()
    loss_keras.backward()
    assert loss_ours.item() == pytest.approx(loss_keras.item(), abs=1e-9)
    assert torch.allclose(ours.grad, keras.grad, atol=1e-9)
    assert (clipped == PATRINI_CLIP).any() and (clipped == 1 - PATRINI_CLIP).any()  # both bounds were active
    # a clipped entry's own term passes no gradient: with every p beyond the clip the gradient is zero
    z = _margin_logits(100.0).requires_grad_()
    backward_corrected_loss(z, torch.tensor([0]), T_INV, clip=PATRINI_CLIP).backward()
    assert torch.count_nonzero(z.grad) == 0


def test_negative_smoothing_is_bounded_as_the_backward_correction_and_stays_its_equal():
    eps = backward_epsilon(0.2)  # -0.25: the smearing matrix is T^-1
    m = smoothing_matrix(C, eps)
    assert torch.allclose(m, T_INV, atol=1e-12)
    for margin in (5.0, 20.0, 160.0):
        smeared = smeared_loss(_margin_logits(margin), torch.tensor([0]), m, clip=PATRINI_CLIP).item()
        assert smeared == pytest.approx(_backward(margin, PATRINI_CLIP), abs=1e-12)
    assert clipped_log_softmax(_margin_logits(160.0), None).min().item() == pytest.approx(-160.0)


# -- the clip in configs and run ids --------------------------------------------------------------------------------

NOISE = ["noise=uniform", "noise.fraction=0.2", "split=noisy"]
AFFECTED = {
    "backward correction": ["method=loss_correction", "method.correction=backward"],
    "backward smearing": ["method=label_smearing", "method.smearing=backward"],
    "negative smoothing": ["method=label_smearing", "method.smoothing_epsilon=-0.1"],
}
UNAFFECTED = {
    "forward correction": ["method=loss_correction", "method.correction=forward"],
    "identity smearing": ["method=label_smearing", "method.smearing=identity"],
    "smoothing": ["method=label_smearing", "method.smoothing_epsilon=0.1"],
}


def _config(overrides: list[str]) -> dict:
    return to_container(load_config([*NOISE, *overrides]))


def _without_clip(config: dict) -> dict:
    """The config as the code before the clip composed it: no `method.probability_clip` key."""
    return {**config, "method": {k: v for k, v in config["method"].items() if k != "probability_clip"}}


@pytest.mark.parametrize("name", list(AFFECTED))
def test_a_loss_with_a_negative_weight_is_clipped_by_default_and_its_run_id_changed(name):
    config = _config(AFFECTED[name])
    assert config["method"]["probability_clip"] == PATRINI_CLIP
    legacy = run_id(_without_clip(config))
    assert run_id(config) != legacy
    assert run_id(_config([*AFFECTED[name], "method.probability_clip=null"])) == legacy  # the old form, by name


@pytest.mark.parametrize("name", list(UNAFFECTED))
def test_a_loss_without_a_negative_weight_is_unclipped_and_keeps_its_run_id(name):
    config = _config(UNAFFECTED[name])
    assert config["method"]["probability_clip"] is None
    assert run_id(config) == run_id(_without_clip(config))


def test_a_finished_run_of_the_unclipped_form_is_not_taken_as_done_by_a_sweep(tmp_path):
    """A run trained before the clip (its config had no clip: the same id as `probability_clip=null` now) lies
    finished in the output root; the sweep plans the clipped run, a different id, and has it still to train."""
    common = [*presets.noisy_digits(meta_fraction=0.1), "optim.epochs=1", "noise.fraction=0.2"]
    sweep = tmp_path / "clip.yaml"
    sweep.write_text(
        textwrap.dedent(f"""
            name: clip
            metric: final_test_acc
            seeds: [0]
            common: [{", ".join(common)}]
            columns:
              Digits: []
            rows:
              Backward (known T): [method=loss_correction, method.correction=backward]
        """)
    )
    unclipped = [f"output_root={tmp_path}", *common, *AFFECTED["backward correction"], "method.probability_clip=null"]
    old = load_config(unclipped)
    old_id = train(old).run_dir.run_id
    assert RunDir(tmp_path / "runs" / old_id).is_done()
    assert old_id == run_id(_without_clip(to_container(old)))  # what the code before the clip named it
    plan = plan_sweep(load_sweep(sweep), output_root=tmp_path)
    [planned] = plan.unique.values()
    assert planned.config["method"]["probability_clip"] == PATRINI_CLIP
    assert planned.run_id != old_id and planned.run_id not in plan.done
    assert [r.run_id for r in plan.to_submit] == [planned.run_id]
