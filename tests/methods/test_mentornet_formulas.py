"""MentorNet's parts against values computed by hand from the authors' formulas (google/mentornet) on fixed inputs:
the mentor network (code/utils.py `mentornet_nn`), the pre-defined curriculum and its enumerated grid
(code/training_mentornet/models.py `vstar_*`, data_generator.py), the data-driven rows of a dump, and the mentor's
training loss and lr (train.py). The student's weights: test_mentornet_student.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from repro.methods.mentornet.curricula import (
    Dump,
    MentorData,
    dd_features,
    enumerated_features,
    pd_data,
    vstar_mentornet_pd,
)
from repro.methods.mentornet.network import MentorNetwork
from repro.methods.mentornet.numpy_net import FlatParameters, TensorFlowAdam, backward, clip_by_global_norm
from repro.methods.mentornet.trainer import (
    MentorFit,
    MentorRecipe,
    learning_rate,
    mentor_loss,
    train_best_mentor,
    train_mentor,
)


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


# ------------------------------------------------------------------------------------------------ the network


def _set_network(net: MentorNetwork) -> None:
    """Small known parameters, so that the hand computation below stays readable."""
    with torch.no_grad():
        net.label_embedding.copy_(torch.tensor([[0.1, -0.2], [0.3, 0.4]]))
        net.epoch_embedding.copy_(torch.arange(500, dtype=torch.float32).reshape(100, 5) / 1000)
        # columns: forward i, forward j, backward i, backward j; rows: loss, loss_diff
        net.lstm_kernel.copy_(torch.tensor([[0.5, -0.3, 0.2, 0.1], [0.4, 0.6, -0.5, 0.3]]))
        net.lstm_bias.copy_(torch.tensor([0.1, 0.0, -0.1, 0.2]))
        net.fc_weight.copy_(torch.linspace(-1, 1, 9 * 20).reshape(9, 20))
        net.fc_bias.copy_(torch.linspace(-0.5, 0.5, 20))
        net.out_weight.copy_(torch.linspace(1, -1, 20).reshape(20, 1))
        net.out_offset.fill_(0.25)


def _by_hand(net: MentorNetwork, loss: float, diff: float, label: int, epoch: int) -> float:
    """mentornet_nn for one sample, scalar by scalar: LSTM cell states c = sigmoid(i) * tanh(j) of each direction
    from a zero state, the embeddings, fc_1 = tanh(feat . W1 + b1), out = fc_1 . (W2 + b2)."""
    k, b = net.lstm_kernel.tolist(), net.lstm_bias.tolist()
    gate = [loss * k[0][g] + diff * k[1][g] + b[g] for g in range(4)]
    c_fw = sigmoid(gate[0]) * math.tanh(gate[1])
    c_bw = sigmoid(gate[2]) * math.tanh(gate[3])
    feat = net.label_embedding[label].tolist() + net.epoch_embedding[min(epoch, 99)].tolist() + [c_fw, c_bw]
    w1, b1 = net.fc_weight.tolist(), net.fc_bias.tolist()
    hidden = [math.tanh(sum(feat[r] * w1[r][h] for r in range(9)) + b1[h]) for h in range(20)]
    w2, offset = [row[0] for row in net.out_weight.tolist()], net.out_offset.item()
    return sum(hidden[h] * (w2[h] + offset) for h in range(20))


def test_the_mentor_network_computes_mentornet_nn():
    net = MentorNetwork()
    _set_network(net)
    rows = [(2.0, -0.5, 0, 10), (0.3, 1.2, 1, 57), (7.5, 3.0, 0, 150)]  # epoch 150 is clamped to 99
    got = net(torch.tensor(rows, dtype=torch.float32))
    want = [_by_hand(net, *row) for row in rows]
    assert got.tolist() == pytest.approx(want, rel=1e-5, abs=1e-6)
    assert net.weights(torch.tensor(rows)).tolist() == pytest.approx([sigmoid(w) for w in want], rel=1e-5)


def test_the_bias_of_the_output_layer_is_added_to_its_weights_as_in_their_code():
    """out = fc_1 . (W + b): the offset b counts once per hidden unit, weighted by that unit's activation."""
    net = MentorNetwork()
    _set_network(net)
    x = torch.tensor([[1.0, 0.5, 0.0, 30.0]])
    before = net(x).item()
    with torch.no_grad():
        hidden = torch.tanh(
            torch.cat([net.label_embedding[0], net.epoch_embedding[30], _cells(net, 1.0, 0.5)]) @ net.fc_weight
            + net.fc_bias
        )
        net.out_offset += 1.0
    assert net(x).item() - before == pytest.approx(float(hidden.sum()), rel=1e-5)


def _cells(net: MentorNetwork, loss: float, diff: float) -> torch.Tensor:
    gates = torch.tensor([loss, diff]) @ net.lstm_kernel + net.lstm_bias
    return torch.sigmoid(gates[0::2]) * torch.tanh(gates[1::2])


def test_the_epoch_embedding_is_frozen_and_saved_with_the_mentor():
    net = MentorNetwork(torch.Generator().manual_seed(3))
    assert "epoch_embedding" in net.state_dict() and "epoch_embedding" not in dict(net.named_parameters())
    limit = math.sqrt(6 / 105)  # Glorot uniform over [100, 5]
    assert float(net.epoch_embedding.abs().max()) <= limit
    again = MentorNetwork(torch.Generator().manual_seed(3))
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), again.state_dict().values()))


# ------------------------------------------------------------------------------------------------ the curricula


def test_vstar_mentornet_pd_on_fixed_rows():
    # (loss, diff, label, epoch) -> v*: ones up to epoch 18, self-paced (diff <= 0) below 90, SPCL 1 - diff from 90
    rows = {
        (2.0, 0.5, 0, 10): 1.0,
        (2.0, 3.0, 0, 18): 1.0,
        (2.0, 0.3, 0, 19): 0.0,
        (2.0, -0.3, 0, 50): 1.0,
        (2.0, 0.0, 0, 89): 1.0,
        (2.0, 0.3, 0, 90): 0.7,
        (2.0, 1.5, 0, 95): 0.0,
        (2.0, -2.0, 0, 99): 1.0,
    }
    got = vstar_mentornet_pd(torch.tensor(list(rows), dtype=torch.float64))
    assert got.tolist() == pytest.approx(list(rows.values()))
    assert vstar_mentornet_pd(torch.tensor([[1.0, 0.3, 0, 95]], dtype=torch.float64), gamma=2.0).item() == 0.85


def test_the_enumerated_grid_is_data_generators():
    grid = enumerated_features()
    assert grid.shape == (120 * 100 * 1 * 100, 4)
    assert grid[0].tolist() == [0, -5, 0, 0] and grid[1].tolist() == [0, -5, 0, 1]  # epoch fastest
    assert grid[100].tolist() == pytest.approx([0, -4.9, 0, 0])  # the loss difference next
    assert grid[10_000].tolist() == pytest.approx([0.1, -5, 0, 0])  # the loss slowest
    assert sorted(set(grid[:, 0].tolist()))[-21:] == pytest.approx([9.9, *range(10, 30)])
    data = pd_data(torch.Generator().manual_seed(0))
    assert data.train_x.shape[0] == 80_000 and data.test_x.shape[0] == 19_999  # their ts skips row tr_size
    assert not data.binary  # SPCL's weights lie between 0 and 1: the mentor trains on the squared error


def test_the_data_driven_rows_of_a_dump():
    dump = Dump(
        epoch=torch.tensor([18, 18, 40, 40, 99]),
        noisy=torch.tensor([9, 6, 3, 3, 1]),
        clean=torch.tensor([9, 1, 3, 2, 1]),
        loss=torch.tensor([0.5, 1.0, 2.0, 4.0, 8.0]),
    )
    x, v, threshold = dd_features(dump, 90)
    # numpy's 90th percentile of [0.5, 1, 2, 4, 8]: position 0.9 * 4 = 3.6 between 4 and 8: 4 + 0.6 * 4 = 6.4
    assert threshold == pytest.approx(6.4)
    assert x[:, 1].tolist() == pytest.approx([0.5 - 6.4, 1 - 6.4, 2 - 6.4, 4 - 6.4, 8 - 6.4], rel=1e-6)
    assert x[:, 2].tolist() == [0] * 5 and x[:, 3].tolist() == [18, 18, 40, 40, 99]
    assert v.tolist() == [1, 0, 1, 0, 1]


# ------------------------------------------------------------------------------------------------ mentor training


def test_the_mentors_loss_and_learning_rate():
    logits, targets = torch.tensor([0.0, 2.0]), torch.tensor([1.0, 0.0])
    bce = (math.log(2) + math.log(1 + math.exp(2))) / 2
    mse = ((1 - 0.5) ** 2 + (0 - sigmoid(2)) ** 2) / 2
    assert float(mentor_loss(logits, targets, True)) == pytest.approx(bce)
    assert float(mentor_loss(logits, targets, False)) == pytest.approx(mse)
    recipe = MentorRecipe()
    assert [learning_rate(s, recipe) for s in (0, 999, 1000, 29_999)] == pytest.approx([0.1, 0.1, 0.09, 0.1 * 0.9**29])
    binary = MentorData(torch.zeros(2, 4), torch.tensor([0.0, 1.0]), torch.zeros(0, 4), torch.zeros(0))
    assert binary.binary and not MentorData(torch.zeros(2, 4), torch.ones(2), torch.zeros(0, 4), torch.zeros(0)).binary


@pytest.mark.parametrize("binary", [True, False])
def test_the_numpy_backward_is_autograds(binary):
    """The hand-written gradient (numpy_net.py) of both losses equals torch autograd's through network.py."""
    net = MentorNetwork(torch.Generator().manual_seed(5))
    g = torch.Generator().manual_seed(6)
    x = torch.stack(
        [torch.rand(32, generator=g) * 12, torch.randn(32, generator=g) * 3, torch.randint(0, 2, (32,), generator=g),
         torch.randint(0, 130, (32,), generator=g)], dim=1,
    ).float()  # fmt: skip
    v = (torch.rand(32, generator=g) > 0.5).float() if binary else torch.rand(32, generator=g)
    flat = FlatParameters(net)
    loss = backward(flat, x.numpy(), v.numpy(), binary)
    want = mentor_loss(net(x), v, binary)
    want.backward()
    assert loss == pytest.approx(want.item(), rel=1e-5)
    for name, p in net.named_parameters():
        np.testing.assert_allclose(flat.grads[name], p.grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)


def test_tensorflows_adam_step_and_the_global_norm_clip_by_hand():
    grad = np.array([3.0, 4.0], np.float32)  # norm 5
    clip_by_global_norm(grad, 2.5)
    assert grad.tolist() == pytest.approx([1.5, 2.0])
    clip_by_global_norm(grad, 5.0)  # below the clip: unchanged
    assert grad.tolist() == pytest.approx([1.5, 2.0])
    values, adam = np.array([1.0, -1.0], np.float32), TensorFlowAdam(2)
    adam.step(values, np.array([0.5, -2.0], np.float32), lr=0.1)
    # t = 1: m = 0.1 g, v = 0.001 g^2, rate = 0.1 sqrt(1 - 0.999) / (1 - 0.9); step = rate m / (sqrt(v) + 1e-8)
    rate = 0.1 * math.sqrt(0.001) / 0.1
    want = [1.0 - rate * 0.05 / (math.sqrt(0.001 * 0.25) + 1e-8), -1.0 - rate * -0.2 / (math.sqrt(0.001 * 4) + 1e-8)]
    assert values.tolist() == pytest.approx(want, rel=1e-5)


def test_a_mentor_learns_the_pre_defined_curriculum():
    data = pd_data(torch.Generator().manual_seed(0), sample_size=4000)
    untrained = MentorNetwork(torch.Generator().manual_seed(1))
    with torch.no_grad():
        before = float(mentor_loss(untrained(data.test_x), data.test_v, False))
    net, record = train_mentor(data, MentorRecipe(steps=300), torch.Generator().manual_seed(1))
    assert record["test_loss"] < before / 2 and record["test_same_side_of_half"] > 0.8
    assert record["loss"] == "squared error of the weight" and record["steps"] == 300


def test_of_a_mentors_initialisations_the_best_after_a_tenth_of_the_steps_goes_on():
    data = pd_data(torch.Generator().manual_seed(0), sample_size=2000)
    net, record = train_best_mentor(data, MentorRecipe(steps=60), [5, 6, 7])
    losses = record["init_audition_losses"]
    assert record["init_seeds"] == [5, 6, 7] and record["init_audition_steps"] == 6 and len(set(losses)) == 3
    kept = record["init_kept"]
    assert kept == losses.index(min(losses)) and record["steps"] == 60
    # the one that went on is the mentor its seed trains in one go (trained in pieces, the same steps)
    alone, fit = train_mentor(data, MentorRecipe(steps=60), torch.Generator().manual_seed(5 + kept))
    assert fit["test_loss"] == record["test_loss"]
    assert all(torch.equal(a, b) for a, b in zip(alone.state_dict().values(), net.state_dict().values()))
    audition = MentorFit(data, MentorRecipe(steps=60), torch.Generator().manual_seed(5 + kept))
    audition.advance(6)
    assert audition.held_out_loss() == min(losses)
