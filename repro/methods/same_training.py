"""When two planned runs are the same training: the same loss on the same data with the same everything else.

Two runs with different configs can still train alike: label smoothing with epsilon is label smearing's smoothing
member with that epsilon; one-hot training is the identity smearing; backward correction with the known T of
symmetric noise f is smoothing with epsilon = -f / (1 - f) (docs/methods/label_smearing.md). Their run ids differ
(their configs do), so the sweep planner would train both and a table would show one result twice. A method states
what it computes as a fact of its own (`Method.training_form`): a canonical description of its per-step loss from
its config, or None when its own config is that description. `training_key` hashes a run's result config with the
method node replaced by that form; two runs of one sweep with the same key and different run ids are a duplicate
(tests/methods/test_same_training.py walks every sweep file).

A tuned run's key is None: what it trains is decided when it starts, from its tuning runs (its `tune` node,
repro/conf/sweep_nodes.py; the sweep's tuning stage decides).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

import torch

from repro.conf.sweep_nodes import tuned_keys
from repro.data.noise.apply import transition_matrix
from repro.methods import method_class
from repro.runs.rundir import result_config

SMEARED = "smeared cross-entropy"  # -sum_j M[y, j] log p_j: the label-smearing family (repro/methods/label_smearing.py)
DECIMALS = 12  # matrices are compared to this many decimals (an inverse and its closed form differ in the last bits)


def smearing_form(matrix: torch.Tensor, clip: float | None = None) -> dict[str, Any]:
    """The canonical form of a loss of the smearing family with C x C matrix M, and the clip of p before the log
    (repro.losses.clipped_log_softmax; None, the plain log-softmax, is left out, so unclipped forms keep their key)."""
    rows = matrix.to(torch.float64).tolist()
    form: dict[str, Any] = {"loss": SMEARED, "matrix": [[round(v, DECIMALS) + 0.0 for v in row] for row in rows]}
    return form if clip is None else {**form, "probability_clip": float(clip)}


def known_symmetric_transition(config: Mapping[str, Any]) -> torch.Tensor | None:
    """The run's known T when its config alone fixes it (uniform noise: (1 - f) I + f / C), else None (a data-dependent
    T: exact-fraction or human noise)."""
    noise = config["noise"]
    if str(noise.get("kind")) != "uniform" or not float(noise.get("fraction") or 0.0) > 0.0:
        return None
    return transition_matrix(noise, int(config["data"]["num_classes"]), dtype=torch.float64)


def training_key(config: Mapping[str, Any]) -> str | None:
    """A hash of what a run trains (None for a tuned run): equal for two runs that compute the same loss on the same
    data with the same everything else."""
    if tuned_keys(config):
        return None
    trained = result_config(config)
    form = method_class(str(config["method"]["name"])).training_form(config)
    if form is not None:
        trained = {**trained, "method": form}
    canonical = json.dumps(trained, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
