"""The label-noise transition matrix T of loss correction (Patrini et al., "Making Deep Neural Networks Robust to
Label Noise: a Loss Correction Approach", CVPR 2017): T[i, j] = P(given label j | true class i), row-stochastic.

Two sources (docs/methods/loss_correction.md):
- known: the run's own noise model (`noise_transition`): the suite's noise models know their T exactly;
- estimated: Patrini et al.'s anchor points (`anchor_transition`) from the softmax of a network trained on the noisy
  labels first (their "est_forward"/"est_backward": the cross-entropy model of the same noisy data, applied to every
  training image, no augmentation). For class i the anchor is the training image with the largest p(i | x) below
  the class's `percentile`-th percentile of p(i | .) (their `filter_outlier`, 97, percentile taken as the next
  higher data point), or the plain arg-max without a percentile; row i of T is that image's softmax, and the rows
  are renormalised (their NoiseEstimator defaults: row_normalize, no clipping, alpha 0).

Every T that reaches training is checked here (`check_transition`): square C x C, finite, non-negative, rows summing
to 1, and invertible for the backward correction; otherwise a UserError before any work.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import torch
from torch import Tensor

from repro.data.noise import describes_noise
from repro.data.noise.apply import transition_matrix
from repro.errors import UserError

ROW_SUM_TOL = 1e-4  # rows of T must sum to 1 within this (float32 softmax rows sum to 1 within ~1e-6)
MAX_CONDITION = 1e6  # the backward correction multiplies losses by T^-1: beyond this, T counts as singular


def check_transition(matrix: Any, num_classes: int, *, where: str, invertible: bool = False) -> Tensor:
    """T as a float64 (C, C) tensor, or a UserError saying what is wrong with it and how to fix it."""
    try:
        t = torch.as_tensor(matrix, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        t = None
    if t is None or t.shape != (num_classes, num_classes):
        shape = tuple(t.shape) if t is not None else type(matrix).__name__
        raise UserError(
            f"{where}: the transition matrix must be a {num_classes} x {num_classes} matrix (one row per true class, "
            f"one column per given label, for the run's {num_classes} classes); got {shape}."
        )
    if not bool(torch.isfinite(t).all()) or bool((t < 0).any()):
        raise UserError(
            f"{where}: the transition matrix has negative, NaN or infinite entries; T[i, j] is the "
            "probability that a sample of true class i is given label j, so every entry is in [0, 1]."
        )
    sums = t.sum(dim=1)
    bad = [(i, float(s)) for i, s in enumerate(sums.tolist()) if abs(s - 1.0) > ROW_SUM_TOL]
    if bad:
        shown = ", ".join(f"row {i} sums to {s:.6g}" for i, s in bad[:5])
        raise UserError(
            f"{where}: the transition matrix is not row-stochastic ({shown}{', ...' if len(bad) > 5 else ''}); "
            "each row T[i, :] is the distribution of the given label for true class i and must sum to 1. Fix the "
            "matrix (e.g. divide each row by its sum)."
        )
    if invertible:
        cond = float(torch.linalg.cond(t))
        if not math.isfinite(cond) or cond > MAX_CONDITION:
            raise UserError(
                f"{where}: the backward correction needs T^-1, but the transition matrix is singular or nearly so "
                f"(condition number {cond:.3g}). Uniform noise at a rate near 1, or an estimate whose anchor rows "
                "coincide, gives such a T; use the forward correction (method.correction=forward), which "
                "needs no inverse, or a lower noise rate."
            )
    return t


def noise_transition(
    noise_cfg: Mapping[str, Any],
    num_classes: int,
    *,
    targets: Tensor | None = None,
    among: Tensor | None = None,
    given: Tensor | None = None,
) -> Tensor:
    """The known T of the run's noise model: `repro.data.noise.transition_matrix`, the noise models' own answer
    (uniform: (1 - f) I + f / C, since the redraw may return the true class; exact_fraction: exact given the run's
    true training targets and training part, `targets` / `among`). Clean data (noise=none) has no noise model:
    correcting it is refused (the identity correction would be the plain cross-entropy)."""
    kind, fraction = str(noise_cfg.get("kind")), float(noise_cfg.get("fraction") or 0.0)
    if not describes_noise(noise_cfg):
        raise UserError(
            f"method=loss_correction with method.transition=known corrects the run's label noise with its noise "
            f"model's T, but this run has no label noise (noise.kind={kind}, noise.fraction={fraction:g}). Add the "
            "noise (e.g. noise=uniform noise.fraction=0.4), give T yourself (method.transition=given with "
            "method.matrix), or train method=baseline on clean data."
        )
    return transition_matrix(noise_cfg, num_classes, targets=targets, among=among, given=given, dtype=torch.float64)


def anchor_transition(probs: Tensor, percentile: float | None, *, where: str) -> tuple[Tensor, list[int]]:
    """(T (C, C) float64, anchor row index per class) from softmax outputs `probs` (N, C) of the noisy-label
    network on the training images, by Patrini et al.'s anchor-point rule (module docstring). A class without an
    anchor point (every probability at or above its percentile, or none above zero) is a UserError."""
    probs = probs.detach().to(torch.float64).cpu()
    n, c = probs.shape
    rows, anchors, missing = [], [], []
    for i in range(c):
        eta = probs[:, i].clone()
        if percentile is not None:
            # numpy's percentile(interpolation='higher'): the smallest data point at or above the linear position
            position = math.ceil(float(percentile) / 100.0 * (n - 1))
            threshold = torch.sort(eta).values[min(position, n - 1)]
            eta[eta >= threshold] = 0.0
        best = int(torch.argmax(eta)) if n else -1
        if best < 0 or not float(eta[best]) > 0.0:
            missing.append(i)
            continue
        anchors.append(best)
        rows.append(probs[best])
    if missing:
        raise UserError(
            f"{where}: the anchor-point estimate found no anchor point for class(es) "
            f"{', '.join(map(str, missing[:10]))}{', ...' if len(missing) > 10 else ''}: among the {n} training "
            "images, none has a positive probability of the class below its percentile. The estimator network is "
            "too poor (train it longer) or the training set too small; lower method.anchor_percentile, set it to "
            "null (the plain arg-max), or use the known T (method.transition=known)."
        )
    t = torch.stack(rows)
    return t / t.sum(dim=1, keepdim=True), anchors
