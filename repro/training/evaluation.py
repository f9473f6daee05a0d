"""Accuracy (overall and per class) of a model on a set of stored images, in eval mode, without augmentation.

The images may live on the GPU (repro/training/hardware.py keeps them there when they fit): batches are then normalised
there, predictions stay on the device, and the host reads the result once per evaluation, not once per batch.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable, ContextManager

import torch

from repro.data.arrays import unit_scale


def normalise(images: torch.Tensor, mean, std) -> torch.Tensor:
    """Stored images [N, C, H, W] -> float on their unit scale (uint8 / 255: repro.data.arrays.unit_scale) and
    standardised per channel (as the batch loader does). `mean` and
    `std` are sequences or tensors already on the images' device (then nothing is copied from the host)."""
    m = torch.as_tensor(mean, dtype=torch.float32, device=images.device).view(1, -1, 1, 1)
    s = torch.as_tensor(std, dtype=torch.float32, device=images.device).view(1, -1, 1, 1)
    return (unit_scale(images) - m) / s


@dataclass
class EvalResult:
    accuracy: float
    per_class: list[float] | None = None


@torch.no_grad()
def batched_outputs(
    model: torch.nn.Module,
    images: torch.Tensor,
    head: Callable[[torch.Tensor], torch.Tensor],
    *,
    batch_size: int,
    mean,
    std,
    device: torch.device,
    prepare: Callable[[torch.Tensor], torch.Tensor] | None = None,
    autocast: Callable[[], ContextManager] | None = None,
) -> list[torch.Tensor]:
    """`head(model(batch))` for every batch of uint8 images [N, C, H, W], in eval mode; the model's mode is restored.
    `prepare` moves a batch to the device in the model's memory format; `autocast` wraps the forwards."""
    prepare = prepare or (lambda x: x.to(device, non_blocking=True))
    # once per evaluation, not per batch: a host-to-device copy of them per batch would be a host sync per batch
    mean = torch.tensor(mean, dtype=torch.float32, device=images.device)
    std = torch.tensor(std, dtype=torch.float32, device=images.device)
    was_training = model.training
    model.eval()
    with (autocast or contextlib.nullcontext)():
        out = [
            head(model(prepare(normalise(images[i : i + batch_size], mean, std))))
            for i in range(0, len(images), batch_size)
        ]
    model.train(was_training)
    return out


def predict(model: torch.nn.Module, images: torch.Tensor, *, device: torch.device, **kwargs) -> torch.Tensor:
    """Predicted classes (N,) on `device` (see batched_outputs for the keyword arguments)."""
    out = batched_outputs(model, images, lambda logits: logits.argmax(1), device=device, **kwargs)
    return torch.cat(out) if out else torch.empty(0, dtype=torch.long, device=device)


def evaluate(
    model: torch.nn.Module,
    images: torch.Tensor,
    targets: torch.Tensor,
    indices: torch.Tensor | None,
    loader_kwargs: dict,
    *,
    per_class: bool = False,
) -> EvalResult:
    if indices is not None:
        images, targets = images[indices.to(images.device)], targets[indices.to(targets.device)]
    predicted = predict(model, images, **loader_kwargs)
    targets = targets.to(predicted.device)
    hit = predicted == targets
    if not len(hit):
        return EvalResult(accuracy=float("nan"), per_class=[] if per_class else None)
    classes = int(targets.max().item()) + 1 if per_class else 0
    # One host read: the overall hits and, when asked, the per-class hit counts and class sizes.
    parts = [hit.sum().view(1)]
    if per_class:
        parts += [torch.bincount(targets[hit], minlength=classes), torch.bincount(targets, minlength=classes)]
    counts = torch.cat(parts).cpu()
    result = EvalResult(accuracy=int(counts[0]) / len(hit))
    if per_class:
        hits, sizes = counts[1 : 1 + classes], counts[1 + classes :].clamp_min(1)
        result.per_class = (hits.float() / sizes.float()).tolist()
    return result


def softmax_outputs(model: torch.nn.Module, images: torch.Tensor, **kwargs) -> torch.Tensor:
    """softmax(model(x)) (N, C) float32 for uint8 images, in eval mode, without augmentation (the estimator's pass;
    keyword arguments as repro.training.evaluation.batched_outputs)."""
    return torch.cat(batched_outputs(model, images, lambda logits: torch.softmax(logits.float(), dim=1), **kwargs))
