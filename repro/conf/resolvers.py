"""Resolvers the packaged config files use (`${repro.<name>:...}`), registered with OmegaConf when `repro.conf` is
imported, before any composition (Hydra imports this package to find the config files)."""

from __future__ import annotations

from omegaconf import OmegaConf

# Keras's K.epsilon(): Patrini et al.'s code (giorgiop/loss-correction, loss.py `robust('backward')`) clips the softmax
# to [1e-7, 1 - 1e-7] before the log, so each -log p_j is at most ln 1e7 = 16.1 and a loss with a negative weight on a
# log-probability is bounded below.
# Defined here rather than in repro/losses.py (which uses it) so that composing a config loads no torch.
PATRINI_CLIP = 1e-7


def negative_weight_clip(member: str, epsilon: float = 0.0) -> float | None:
    """The default `method.probability_clip` of the smearing family's losses: Patrini et al.'s clip (1e-7) where the
    loss puts a negative weight on a log-probability, none where every weight is non-negative.

    `member` is the loss's member: `backward` (T^-1, negative off its diagonal for any T but a permutation),
    `smoothing` with `epsilon` (negative weights eps/C off the target when eps < 0), `forward` or `identity` (none).
    A config file sets it from its own keys, so the clip is the default of exactly the configs whose loss is unbounded
    below without it; only those configs' run ids change (a null clip is not hashed: its `neutral`, repro/methods/)."""
    try:
        negative_smoothing = member == "smoothing" and float(epsilon) < 0
    except (TypeError, ValueError):  # not a number: the method's declaration refuses it, with its own message
        negative_smoothing = False
    return PATRINI_CLIP if member == "backward" or negative_smoothing else None


OmegaConf.register_new_resolver("repro.negative_weight_clip", negative_weight_clip, replace=True)
