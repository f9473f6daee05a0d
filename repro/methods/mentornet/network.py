"""The mentor network of MentorNet (Jiang et al., ICML 2018), as the authors define it in google/mentornet
`code/utils.py`, `mentornet_nn`: it maps a sample's features (loss, loss minus the moving loss percentile, label,
epoch) to the logit of its weight; the weight is sigmoid(logit).

Their network, part by part (and how it reads here):
- a label embedding [2, 2] (trainable) and an epoch embedding [100, 5] created with `trainable=False`: it keeps its
  random initial values for good and is saved with the mentor (`tf.get_variable`'s default initialiser, Glorot
  uniform, for both); the epoch is clamped to 99;
- a bidirectional LSTM of one unit each way over a one-step sequence whose input is (loss, loss difference), from
  a zero state; the features it passes on are `out_state_fw[0]` and `out_state_bw[0]`, the first field of
  TensorFlow's LSTMStateTuple, which is the cell state c, not the output h. From a zero state one step of
  BasicLSTMCell gives c = sigmoid(i) * tanh(j) (the forget gate multiplies the zero state, the output gate only
  enters h), so only the input and candidate gates' weights from the two inputs matter: `lstm_kernel` holds those
  of both directions, columns (forward i, forward j, backward i, backward j), each drawn as theirs (Glorot uniform
  over the whole kernel's shape [3, 4]), `lstm_bias` their biases (zeros, as theirs);
- concat(label embedding, epoch embedding, c_fw, c_bw) (9 values), a fully connected layer of 20 tanh units and a
  linear output; all four tensors of these two layers start from a standard normal (`tf.random_normal`);
- the output layer adds its bias to the weight matrix, not to the output (`tf.matmul(fc_1, W + b)` in their code),
  so the output is fc_1 . (W + b): kept as written.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

LABELS = 2  # rows of the label embedding; the students always pass label 0 ("label not used in the current version")
EPOCHS = 100  # rows of the epoch embedding: the epoch feature is the percentage of training done, 0..99
FEATURES = ("loss", "loss_diff", "label", "epoch")  # the columns of a feature matrix, in their order


def glorot_uniform(shape: tuple[int, int], generator: torch.Generator) -> Tensor:
    """U(-l, l) with l = sqrt(6 / (fan_in + fan_out)) for a 2-D shape (TensorFlow's default for get_variable)."""
    limit = math.sqrt(6.0 / (shape[0] + shape[1]))
    return (torch.rand(shape, generator=generator) * 2 - 1) * limit


class MentorNetwork(nn.Module):
    """features (n, 4) = (loss, loss_diff, label, epoch) -> the logit of each sample's weight (n,)."""

    def __init__(
        self,
        generator: torch.Generator | None = None,
        *,
        label_embedding_size: int = 2,
        epoch_embedding_size: int = 5,
        hidden: int = 20,
    ) -> None:
        super().__init__()
        g = generator if generator is not None else torch.Generator().manual_seed(0)
        self.label_embedding = nn.Parameter(glorot_uniform((LABELS, label_embedding_size), g))
        self.register_buffer("epoch_embedding", glorot_uniform((EPOCHS, epoch_embedding_size), g))
        forward = glorot_uniform((3, 4), g)  # BasicLSTMCell's kernel: rows (loss, loss_diff, h), columns (i, j, f, o)
        backward = glorot_uniform((3, 4), g)  # the backward cell's
        self.lstm_kernel = nn.Parameter(torch.cat([forward[:2, :2], backward[:2, :2]], dim=1))  # (input, 4 gates)
        self.lstm_bias = nn.Parameter(torch.zeros(4))
        width = label_embedding_size + epoch_embedding_size + 2
        self.fc_weight = nn.Parameter(torch.randn(width, hidden, generator=g))
        self.fc_bias = nn.Parameter(torch.randn(hidden, generator=g))
        self.out_weight = nn.Parameter(torch.randn(hidden, 1, generator=g))
        self.out_offset = nn.Parameter(torch.randn(1, generator=g))  # added to out_weight, as their code does

    def forward(self, features: Tensor) -> Tensor:
        losses = features[:, :2]  # (loss, loss_diff): the LSTM's one-step input
        labels = features[:, 2].long()
        epochs = features[:, 3].long().clamp(max=EPOCHS - 1)
        gates = torch.addmm(self.lstm_bias, losses, self.lstm_kernel)  # (n, 4): forward i, j, backward i, j
        cell = torch.sigmoid(gates[:, 0::2]) * torch.tanh(gates[:, 1::2])  # c of each direction, (n, 2)
        feat = torch.cat([self.label_embedding[labels], self.epoch_embedding[epochs], cell], dim=1)
        hidden = torch.tanh(torch.addmm(self.fc_bias, feat, self.fc_weight))
        return (hidden @ (self.out_weight + self.out_offset)).squeeze(1)

    def weights(self, features: Tensor) -> Tensor:
        """v = sigmoid(logit), in (0, 1)."""
        return torch.sigmoid(self(features))
