"""The mentor network's forward and backward pass, and TensorFlow's Adam, written out in numpy: what the mentor's
training (trainer.py) steps with. The student weighs its batches with the torch module (network.py) on the run's
device; training copies that module's parameters in and the trained values back out.

Why by hand: a mentor trains 30,000 steps of 32 rows, each a few dozen operations on arrays of a few hundred values,
so the time goes to the per-operation overhead, which numpy's is a fraction of torch's. The parameters live in one
flat float32 vector (each parameter a view of it), so the gradient clipping and Adam are a handful of operations on
one array. tests/methods/test_mentornet_formulas.py checks the gradient against torch's autograd on fixed inputs and
the trained mentor's fit; benchmarks/mentor_steps.py times it.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from repro.methods.mentornet.network import EPOCHS, MentorNetwork


class FlatParameters:
    """The mentor's trainable parameters in one float32 vector `values`, with a view of it per parameter name, and
    a gradient vector `grad` shaped alike; `epochs` is the frozen epoch embedding."""

    def __init__(self, net: MentorNetwork) -> None:
        named = [(name, p.detach().cpu().numpy().astype(np.float32)) for name, p in net.named_parameters()]
        sizes = [a.size for _, a in named]
        self.values = np.concatenate([a.ravel() for _, a in named]).astype(np.float32)
        self.grad = np.zeros_like(self.values)
        self.params, self.grads = {}, {}
        offset = 0
        for (name, array), size in zip(named, sizes):
            self.params[name] = self.values[offset : offset + size].reshape(array.shape)
            self.grads[name] = self.grad[offset : offset + size].reshape(array.shape)
            offset += size
        self.epochs = net.epoch_embedding.detach().cpu().numpy().astype(np.float32)

    def copy_into(self, net: MentorNetwork) -> None:
        """Write the values back into the torch module's parameters."""
        for name, p in net.named_parameters():
            p.data.copy_(p.data.new_tensor(self.params[name]))


def backward(flat: FlatParameters, x: np.ndarray, v: np.ndarray, binary: bool) -> float:
    """Fill `flat.grad` with the gradient of the batch's loss (network.py's forward on features `x` (n, 4), targets
    `v` (n,): the mean sigmoid cross-entropy when `binary`, else the mean squared error of the sigmoid); returns
    the loss."""
    p, g, n = flat.params, flat.grads, x.shape[0]
    labels, epoch = x[:, 2].astype(np.int64), np.minimum(x[:, 3].astype(np.int64), EPOCHS - 1)
    gates = x[:, :2] @ p["lstm_kernel"] + p["lstm_bias"]  # forward i, j, backward i, j
    gate_i, gate_j = expit(gates[:, 0::2]), np.tanh(gates[:, 1::2])
    one_hot = (labels[:, None] == np.arange(p["label_embedding"].shape[0])).astype(np.float32)
    feat = np.concatenate([one_hot @ p["label_embedding"], flat.epochs[epoch], gate_i * gate_j], axis=1)
    hidden = np.tanh(feat @ p["fc_weight"] + p["fc_bias"])
    weight = p["out_weight"][:, 0] + p["out_offset"][0]
    logits = hidden @ weight
    s = expit(logits)
    if binary:  # softplus(z) - v z, written stably; its derivative is sigmoid(z) - v
        loss = float(np.mean(np.maximum(logits, 0) - logits * v + np.log1p(np.exp(-np.abs(logits)))))
        d_logits = (s - v) / n
    else:
        loss = float(np.mean((v - s) ** 2))
        d_logits = -2 * (v - s) * s * (1 - s) / n
    g["out_weight"][:, 0] = hidden.T @ d_logits
    g["out_offset"][0] = g["out_weight"].sum()
    d_pre = np.outer(d_logits, weight) * (1 - hidden * hidden)
    g["fc_weight"][...] = feat.T @ d_pre
    g["fc_bias"][...] = d_pre.sum(axis=0)
    d_feat = d_pre @ p["fc_weight"].T
    g["label_embedding"][...] = one_hot.T @ d_feat[:, : p["label_embedding"].shape[1]]
    d_cell = d_feat[:, -2:]
    d_gates = np.empty_like(gates)
    d_gates[:, 0::2] = d_cell * gate_j * gate_i * (1 - gate_i)
    d_gates[:, 1::2] = d_cell * gate_i * (1 - gate_j * gate_j)
    g["lstm_kernel"][...] = x[:, :2].T @ d_gates
    g["lstm_bias"][...] = d_gates.sum(axis=0)
    return loss


def clip_by_global_norm(grad: np.ndarray, clip: float) -> None:
    """tf.clip_by_global_norm, in place: the gradient times clip / max(its norm, clip)."""
    norm = float(np.sqrt(np.dot(grad, grad)))
    if norm > clip:
        grad *= np.float32(clip / norm)


class TensorFlowAdam:
    """tf.train.AdamOptimizer (beta1 0.9, beta2 0.999, epsilon 1e-8) on a flat vector: m and v as usual, and the
    step lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + epsilon), epsilon added to sqrt(v) itself."""

    def __init__(self, size: int, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8) -> None:
        self.m, self.v = np.zeros(size, np.float32), np.zeros(size, np.float32)
        self.beta1, self.beta2, self.epsilon, self.t = beta1, beta2, np.float32(epsilon), 0

    def step(self, values: np.ndarray, grad: np.ndarray, lr: float) -> None:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        self.m *= np.float32(b1)
        self.m += np.float32(1 - b1) * grad
        self.v *= np.float32(b2)
        self.v += np.float32(1 - b2) * grad * grad
        rate = np.float32(lr * np.sqrt(1 - b2**self.t) / (1 - b1**self.t))
        values -= rate * self.m / (np.sqrt(self.v) + self.epsilon)
