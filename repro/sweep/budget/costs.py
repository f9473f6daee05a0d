"""What a run will cost in GPU-hours, from per-step costs measured on the user's GPU (`repro bench`); a sweep's
estimate sums them (repro/sweep/budget/estimate.py).

The per-step costs come from a calibration (repro/sweep/budget/calibration.py: one per GPU model, else the design notes'
H100 figures, which the estimate then says it used). A run's cost = epochs x (steps per epoch x step cost +
evaluated images x forward cost per image); steps per epoch come from the data set's known size, the split and the
batch size, without loading data. The evaluated images are each epoch's passes as the loop, the method and the
recorders declare them (repro/train.py: epoch_eval_images). A step's cost at the run's batch and meta batch lies on
the plane through the batches `repro bench` times (a step has a fixed part, kernel launches, and a look-ahead's meta
part, neither of which shrinks with the training batch); a calibration with one batch only scales it in proportion.
The step cost is the one its method declares (repro/training/step_cost.py). Where the calibration has no
figure of that kind for the model, it is estimated from another kind (the kind's documented factor); where it has
none for the model, or the run's network is not at the width it was timed at (a `model.*` key off its default), from a
measured model scaled by FLOPs (repro/models/flops.py), a lower bound that turns the total into "at least" where the
network is smaller, and says why. A run is never counted as zero.

A run's step kind is its method's declaration's (torch-free, repro/methods/declaration.py). What its network and
recorders say of its cost is read through their classes, which need torch: those imports are deferred to the
functions that price a run, so that the reporting commands, which reach this module through the tuning stage's
notes, load no torch.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Mapping

from repro.conf.networks import NETWORKS
from repro.data.sizes import DATA_SIZES, run_sizes  # noqa: F401  (a run's sizes: part of this module's API)
from repro.errors import UserError
from repro.methods.registry import method_declaration
from repro.schema import fields_of
from repro.sweep.budget.calibration import Calibration
from repro.sweep.budget.epoch_cost import epoch_fixed_ms, epoch_step_ratio
from repro.training.schedule import planned_steps
from repro.training.step_cost import STEP_COSTS, StepCost

# (channels, image size, classes) of an image of each data set: what a FLOPs-scaled estimate is computed at (MNIST-1D:
# the size is the signal's length, repro.models.input_shape).
DATA_SHAPES = {"cifar10": (3, 32, 10), "cifar100": (3, 32, 100), "digits": (1, 8, 10), "mnist1d": (1, 40, 10)}
# A measured model the others are scaled from by FLOPs when the calibration has none of their own (the first of
# these that it has, else its first model).
REFERENCE_MODELS = ("resnet18", "vgg16", "wrn28_10")


def step_kind(config: Mapping[str, Any]) -> StepCost:
    """What one step of the run costs: the kind its method declares (repro/training/step_cost.py)."""
    return method_declaration(str(config["method"]["name"])).step_cost


@dataclass(frozen=True)
class Price:
    """ms per step (at the calibration's batch) and per evaluated image of one run's model and step kind; `notes`
    say how it was estimated (empty: measured), `lower_bound` that the run may well cost more."""

    step_ms: float
    eval_ms_per_image: float
    notes: tuple[str, ...] = ()
    lower_bound: bool = False
    half_batch_step_ms: float | None = None  # at the calibration's batch // 2, where it was timed
    low_meta_batch_step_ms: float | None = None  # at its low meta batch, for a kind that runs one
    flops_ratio: float = 1.0  # a model priced from another's figures: the ratio of their forward FLOPs

    def step_ms_at(self, batch: int, meta_batch: int | None, cal: Calibration) -> float:
        """ms of one step at `batch` (and `meta_batch`, for a kind that runs one): on the plane through the timed
        batches, a fixed part per step plus a part per training image and per meta image. A calibration with one
        batch only scales the step in proportion to the batch. Where the plane's fixed part would be negative, the
        step is taken as proportional to its parts; a half batch timed slower than the full one (noise) adds
        nothing per image."""
        if self.half_batch_step_ms is None:
            return self.step_ms * batch / cal.batch
        per_image = max((self.step_ms - self.half_batch_step_ms) / (cal.batch - cal.batch // 2), 0.0)
        per_meta = 0.0
        low = cal.low_meta_batch
        if meta_batch is not None and self.low_meta_batch_step_ms is not None and low and low < cal.meta_batch:
            per_meta = max((self.step_ms - self.low_meta_batch_step_ms) / (cal.meta_batch - low), 0.0)
        meta_batch = cal.meta_batch if meta_batch is None else meta_batch
        fixed = self.step_ms - per_image * cal.batch - per_meta * cal.meta_batch
        if fixed < 0:
            return self.step_ms * (per_image * batch + per_meta * meta_batch) / (self.step_ms - fixed)
        return fixed + per_image * batch + per_meta * meta_batch


LOWER_BOUND_WHY = (
    "a figure scaled down by FLOPs is a lower bound: a small network's step on a GPU is bound by "
    "kernel launches more than by FLOPs; `repro bench` on your GPU measures every model"
)


def _kind_ms(figures: Mapping[str, float], kind: StepCost) -> tuple[float, tuple[str, ...]] | None:
    """A model's ms for `kind`: measured, else from the kind its estimate names (recursively), with the reasons."""
    if kind.key in figures:
        return float(figures[kind.key]), ()
    if kind.estimate is None:
        return None
    base_key, factor = kind.estimate
    base = _kind_ms(figures, next(k for k in STEP_COSTS if k.key == base_key))
    if base is None:
        return None
    return base[0] * factor, (
        *base[1],
        f"{kind.key} steps = {factor:.3g} x {base_key} steps where not measured ({kind.why})",
    )


def off_default_network_keys(model: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The network's own keys (`model.*` beside its name) whose values differ from their declared defaults: what a
    calibration, timed at the defaults, does not price as measured."""
    defaults = {f.name: f.default for f in fields_of(NETWORKS[str(model["name"])]) if f.name != "name"}
    return tuple(sorted((k, v) for k, v in model.items() if k in defaults and v != defaults[k]))


@functools.lru_cache(maxsize=4096)
def _price(
    cal: Calibration, model: str, kind: StepCost, shape: tuple[int, int, int], keys: tuple[tuple[str, Any], ...] = ()
) -> Price | None:
    channels, size, classes = shape
    measured = model in cal.steps_ms
    ref = (
        model if measured else next((m for m in REFERENCE_MODELS if m in cal.steps_ms), next(iter(cal.steps_ms), None))
    )
    if ref is None:
        return None
    got = _kind_ms(cal.steps_ms[ref], kind)
    if got is None:
        return None
    ms, notes = got
    halves = [
        None if got is None else got[0]
        for got in (
            _kind_ms((cal.half_batch_steps_ms or {}).get(ref, {}), kind),
            _kind_ms((cal.low_meta_batch_steps_ms or {}).get(ref, {}), kind) if kind.meta_batch else None,
        )
    ]
    # the width: a square image's side, a signal's length (its height is 1), what data.image_size says of both
    ref_c, _, ref_h, ref_classes = cal.shape(ref)
    if measured and not keys and (ref_c, ref_h) == (channels, size):  # other classes: only the last layer differs
        return Price(ms, float(cal.eval_ms_per_image[ref]), notes, False, *halves)
    at = f"{channels}x{size}x{size}" + "".join(f", {k}={v}" for k, v in keys)
    from repro.models.flops import forward_flops  # deferred: torch (the networks), kept from the reporting commands

    try:
        ratio = forward_flops(model, channels, size, classes, keys) / forward_flops(ref, ref_c, ref_h, ref_classes)
    except Exception as exc:  # a model the registry cannot build at this shape: the run stays unpriced, said so
        return Price(math.nan, math.nan, (f"{model}: no FLOPs count at {at} ({exc})",), True)
    timed = f"{ref_c}x{ref_h}x{ref_h}" + (" at its default width" if keys else "")
    where = f"{model} timed at {timed} only" if measured else f"{model} not measured here"
    notes = (f"{where}: {ref}'s figures x {ratio:.3g}, the ratio of forward FLOPs at {at}", *notes)
    return Price(
        ms * ratio,
        float(cal.eval_ms_per_image[ref]) * ratio,
        notes,
        ratio < 1,
        *(None if half is None else half * ratio for half in halves),
        ratio,
    )


def price(config: Mapping[str, Any], cal: Calibration) -> Price | None:
    """The run's step and eval price on `cal` (None when the calibration has no model to price it from)."""
    data = config["data"]["name"]
    shape = DATA_SHAPES.get(data)
    if shape is None:
        raise UserError(f"No known image shape for data set {data!r}; known: {', '.join(DATA_SHAPES)}.")
    model = config["model"]
    return _price(cal, str(model["name"]), step_kind(config), shape, off_default_network_keys(model))


def epoch_parts(config: Mapping[str, Any], cal: Calibration) -> tuple[int, float, float, float] | None:
    """(steps of a full epoch, their seconds, the evaluation passes' seconds, the per-epoch fixed seconds) of the
    run on `cal`; None when it cannot be priced (see `price`). A step inside an epoch costs the timed step times the
    calibration's in-epoch ratio, and each epoch adds its fixed cost (repro/sweep/budget/epoch_cost.py)."""
    from repro.train import epoch_eval_images  # deferred: torch (methods, recorders), kept from the reporting commands
    from repro.training.batches import meta_batch_size  # deferred: torch, kept from the reporting commands

    got = price(config, cal)
    if got is None or math.isnan(got.step_ms):
        return None

    n_train, n_meta, n_test = run_sizes(config)
    batch = int(config["data"]["batch_size"])
    kind, model = step_kind(config), str(config["model"]["name"])
    meta_batch = meta_batch_size(config["method"], n_meta) if kind.meta_batch else None
    step_ms = got.step_ms_at(batch, meta_batch, cal) * epoch_step_ratio(cal, model, kind)
    steps = math.ceil(n_train / batch)
    eval_ms = epoch_eval_images(config, n_train, n_meta, n_test) * got.eval_ms_per_image
    fixed_ms = epoch_fixed_ms(cal, model, kind, got.flops_ratio)
    return steps, steps * step_ms / 1e3, eval_ms / 1e3, fixed_ms / 1e3


def run_gpu_hours(config: Mapping[str, Any], cal: Calibration, share: float = 1.0) -> float | None:
    """Estimated GPU-hours of one planned job; None when it cannot be priced (see `price`). `share`: the part of its
    run's cost the job is expected to train, as its stage planned it (`PlannedRun.share`: a successive-halving
    rung's job, the epochs from the previous rung, as likely as its run is to get there)."""
    hours = full_run_gpu_hours(config, cal)
    return None if hours is None else hours * share


def full_run_gpu_hours(config: Mapping[str, Any], cal: Calibration) -> float | None:
    """Estimated GPU-hours of the whole run, all its epochs; None when it cannot be priced (see `price`)."""
    from repro.train import last_epoch_eval_images  # deferred: torch (the recorders), kept from the reporting commands

    parts = epoch_parts(config, cal)
    if parts is None:
        return None

    steps, step_s, eval_s, fixed_s = parts
    epochs, total_steps = planned_steps(config["optim"], steps)  # optim.iterations may end the last epoch early
    once_s = last_epoch_eval_images(config, *run_sizes(config)) * price(config, cal).eval_ms_per_image / 1e3
    return (total_steps * step_s / max(steps, 1) + epochs * (eval_s + fixed_s) + once_s) / 3600
