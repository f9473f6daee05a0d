"""`repro bench`'s whole short epochs: for a model and a step kind, the run's own epoch (repro.train.run_epoch: the
batch loaders, the method's steps, the end of the epoch, the validation and test passes; then the epoch's records and
its checkpoint, as the training loop does) on synthetic data of the model's input shape, at two lengths. The slope
is a step's cost inside an epoch, the intercept less the evaluation passes the per-epoch fixed cost
(repro/sweep/budget/epoch_cost.py prices both).

The slope is stored as its ratio to the step `repro bench` timed alone, so both must be the same step: the epochs
train the batch and, for a look-ahead, the meta batch the isolated step was timed at, as the run's own config
resolves them (`data.batch_size`, `method.meta_batch_size` at most the meta set: repro/training/batches.py), on the
hardware a run's config resolves (`run_hardware`: the memory format, the precision), which the isolated steps take
too. The meta set is the same at both lengths and holds the meta batch: were it a share of the data, the short
epoch would draw a smaller meta batch than the long one and the slope would price the difference as a step's cost
(a digits look-ahead came out x1.2-1.4 of the isolated step so). `epoch_costs` checks what the run resolved.

Each kind is timed with the first method that declares it and learns from no other run (baseline for plain steps,
class labels for the label look-ahead); the other kinds take the figures of the kind their estimate names, or the
plain one (repro/sweep/budget/epoch_cost.py).
"""

from __future__ import annotations

import statistics
import tempfile
from dataclasses import dataclass

import torch

from repro.commands.step_timing import measure
from repro.config import load_config, to_container
from repro.data.arrays import ArrayDataset
from repro.methods import METHODS, method_declaration
from repro.models import SIGNAL_MODELS
from repro.runs.checkpoint import save_checkpoint
from repro.runs.rundir import RunDir
from repro.sweep.budget.clock import WALL_CLOCK, Clock
from repro.tracking.tracker import NullTracker
from repro.train import build_experiment, evaluate_epoch, run_epoch
from repro.training.experiment import Experiment
from repro.training.hardware import Hardware
from repro.training.progress import EpochProgress
from repro.training.run_data import RunData
from repro.training.step_cost import LABEL_LOOKAHEAD, PLAIN, StepCost

SHORT_STEPS = 3  # steps of the short epoch (at least 5 images per class); the long one has 3 times its images: the
LONG_FACTOR = 3  # difference gives the slope, far enough apart for timing noise
# The kinds whose whole epochs are timed; the others take the kind their estimate names, or the plain one
# (repro/sweep/budget/epoch_cost.py): their epochs differ from these in their steps, which are timed one by one.
EPOCH_KINDS = (PLAIN, LABEL_LOOKAHEAD)
TIMED_EPOCHS = 3  # rounds of an isolated step's timing and an epoch of each length, after an epoch of warm-up


@dataclass(frozen=True)
class EpochCost:
    """A kind's whole epochs: a step inside an epoch over the same step timed alone, ms per epoch beyond its steps
    and evaluation, and the batch and meta batch (None: the kind draws none) the run resolved, which both trained
    at."""

    step_ratio: float
    fixed_ms: float
    batch: int
    meta_batch: int | None


def run_hardware(device: str) -> Hardware:
    """The hardware a run on `device` resolves from its config (repro/conf/config.yaml's keys: the memory format,
    the precision): what the isolated steps and the epochs both run on."""
    return Hardware.from_config(load_config([f"device={device}", "tracker=none", "progress=none"]))


def method_for(kind: StepCost) -> str | None:
    """The first method (METHODS order) whose class declares `kind` and reads no other run."""
    for name in METHODS:
        declared = method_declaration(name)
        if declared.step_cost == kind and declared.source_option is None and name != "replay":
            return name
    return None


def synthetic_data(shape: tuple[int, int, int, int], n_train: int, n_meta: int, n_test: int, augment: bool) -> RunData:
    """RunData of random images of `shape` (channels, height, width, classes), classes in turn: `n_train` training
    images and after them a held-out meta set of `n_meta`."""
    channels, height, width, classes = shape
    gen = torch.Generator().manual_seed(0)

    def dataset(count: int) -> ArrayDataset:
        images = torch.randint(0, 256, (count, channels, height, width), generator=gen, dtype=torch.uint8)
        targets = torch.arange(count) % classes
        names = [str(c) for c in range(classes)]
        return ArrayDataset(images, targets, names, (0.5,) * channels, (0.25,) * channels, augment)

    train, test = dataset(n_train + n_meta), dataset(n_test)
    index = torch.arange(n_train + n_meta)
    noisy = torch.zeros(n_train + n_meta, dtype=torch.bool)
    return RunData(train, test, train.targets, train.targets, noisy, index[:n_train], index[n_train:])


def epoch_costs(
    model_name: str,
    kind: StepCost,
    hw: Hardware,
    *,
    batch: int,
    meta_batch: int,
    shape: tuple[int, int, int, int],
    steps: int,
    clock: Clock = WALL_CLOCK,
) -> EpochCost | None:
    """`kind`'s whole epochs on `model_name` at its input `shape` (channels, height, width, classes), training at
    `batch` and, for a look-ahead, `meta_batch`, on `hw`'s device, read on `clock`; None when no method without a
    teacher declares the kind. Each round times the isolated step (`steps` of them, step_timing.measure), a short
    and a long epoch, one after the other, so that a load that changes over the rounds changes all three alike; each
    round gives a ratio and an intercept, and the median of each is kept."""
    method = method_for(kind)
    if method is None:
        return None
    n_train = max(SHORT_STEPS * batch, 5 * shape[3])
    n_meta = max(meta_batch, shape[3])  # every class in it, and the meta batch at both lengths
    sizes = {"batch": batch, "meta_batch": meta_batch, "classes": shape[3], "steps": steps}
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        for n in (n_train, LONG_FACTOR * n_train):
            cfg = load_config(_overrides(model_name, method, kind, hw, batch, meta_batch, shape, f"{tmp}/{n}"))
            runs.append(_EpochRun.build(cfg, synthetic_data(shape, n, n_meta, 2 * batch, _augmented(cfg))))
        resolved = {_check_sizes(run.exp, kind, hw, batch, meta_batch) for run in runs}
        short, long = runs
        for run in runs:  # the warm-up (lazy initialisation, autotuning), not counted
            run.seconds(clock)
        ratios, intercepts = [], []
        for _ in range(TIMED_EPOCHS):
            alone_ms = measure(model_name, hw, **sizes, kinds=(kind,), clock=clock, evaluate=False)[kind.key]
            t_short, t_long = short.seconds(clock), long.seconds(clock)
            per_step = max((t_long - t_short) / (long.steps - short.steps), 0.0)
            ratios.append(1e3 * per_step / alone_ms)
            intercepts.append(max(t_short - short.steps * per_step, 0.0))
    return EpochCost(statistics.median(ratios), 1e3 * statistics.median(intercepts), *resolved.pop())


def _overrides(model_name, method, kind, hw, batch, meta_batch, shape, output_root) -> list[str]:
    """The run the epochs train: the model's data set (its input shape), `method`, `hw`'s device, the batches."""
    if model_name in SIGNAL_MODELS:  # its input is MNIST-1D's signal (bench_shape), which is not augmented
        data = "mnist1d"
    else:
        data = "digits" if shape[1] < 32 else ("cifar100" if shape[3] == 100 else "cifar10")
    overrides = [f"model={model_name}", f"data={data}", f"method={method}", "split=holdout", f"device={hw.device.type}"]
    overrides += ["tracker=none", "progress=none", f"output_root={output_root}", f"data.batch_size={batch}"]
    return overrides + ([f"method.meta_batch_size={meta_batch}"] if kind.meta_batch else [])


def _augmented(cfg) -> bool:
    """Whether the data set's loader augments its images (the CIFAR sets'), as the run's would."""
    return str(cfg.data.name) not in ("digits", "mnist1d")


def _check_sizes(exp: Experiment, kind: StepCost, hw: Hardware, batch: int, meta_batch: int) -> tuple[int, int | None]:
    """The batch and meta batch the run resolved, which must be those the isolated step was timed at, on its
    hardware: the epochs' step is priced as a ratio to it."""
    resolved = (exp.batches.train.batch_size, exp.batches.meta_batch if kind.meta_batch else None)
    wanted = (batch, meta_batch if kind.meta_batch else None)
    if resolved != wanted or exp.hardware != hw:
        raise RuntimeError(
            f"repro bench's epochs of {kind.key} steps resolved batch, meta batch {resolved} on {exp.hardware}, "
            f"not the isolated step's {wanted} on {hw}: their ratio would price two different steps"
        )
    return resolved


@dataclass
class _EpochRun:
    """One length's run: its experiment, trained an epoch at a time as the training loop trains it."""

    exp: Experiment
    rd: RunDir
    progress: EpochProgress
    epoch: int = 0

    @classmethod
    def build(cls, cfg, data: RunData) -> _EpochRun:
        rd = RunDir.for_config(to_container(cfg))
        rd.path.mkdir(parents=True, exist_ok=True)
        progress = EpochProgress(mode="none", total_epochs=1 + TIMED_EPOCHS, run_id=rd.run_id)
        return cls(build_experiment(cfg, rd, data), rd, progress)

    @property
    def steps(self) -> int:
        return len(self.exp.batches.train)

    def seconds(self, clock: Clock) -> float:
        """The seconds of its next epoch (its steps, evaluation, records and checkpoint, as the training loop runs
        them) less those of its evaluation passes, timed again after it."""
        sync = torch.cuda.synchronize if self.exp.hardware.device.type == "cuda" else (lambda: None)
        sync()
        start = clock.read()
        row = run_epoch(self.exp, self.epoch, self.progress)
        self.exp.record_epoch(self.epoch, row, NullTracker())
        save_checkpoint({**self.exp.state_dict(), "epoch": self.epoch + 1, "history": [row]}, self.rd.checkpoint_file)
        sync()
        middle = clock.read()
        evaluate_epoch(self.exp)
        sync()
        self.epoch += 1
        return (middle - start) - (clock.read() - middle)
