"""Accuracy (overall and per class) of a model on a set of stored images, in eval mode, without augmentation."""

from __future__ import annotations

from dataclasses import dataclass

import torch



def normalise(images: torch.Tensor, mean, std) -> torch.Tensor:
    """uint8 [N, C, H, W] -> float, scaled to 0..1 and standardised per channel (as the batch loader does)."""
    m = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    return (images.float() / 255.0 - m) / s


@dataclass
class EvalResult:
    accuracy: float
    per_class: list[float] | None = None


@torch.no_grad()
def predict(model: torch.nn.Module, images: torch.Tensor, *, batch_size: int, mean, std,
            device: torch.device) -> torch.Tensor:
    """Logits for uint8 images [N, C, H, W], in eval mode; the model's mode is restored afterwards."""
    was_training = model.training
    model.eval()
    out = [model(normalise(images[i:i + batch_size], mean, std).to(device)).float().cpu()
           for i in range(0, len(images), batch_size)]
    model.train(was_training)
    return torch.cat(out) if out else torch.empty(0)


def evaluate(model: torch.nn.Module, images: torch.Tensor, targets: torch.Tensor, indices: torch.Tensor | None,
             loader_kwargs: dict, *, per_class: bool = False) -> EvalResult:
    if indices is not None:
        images, targets = images[indices], targets[indices]
    logits = predict(model, images, **loader_kwargs)
    hit = logits.argmax(1) == targets
    result = EvalResult(accuracy=hit.float().mean().item() if len(hit) else float("nan"))
    if per_class:
        classes = int(targets.max().item()) + 1 if len(targets) else 0
        counts = torch.bincount(targets, minlength=classes).clamp_min(1)
        hits = torch.bincount(targets[hit], minlength=classes)
        result.per_class = (hits.float() / counts.float()).tolist()
    return result
