"""`repro bench`'s whole short epochs: for a model and a step kind, the run's own epoch (repro.train.run_epoch: the
batch loaders, the method's steps, the end of the epoch, the validation and test passes; then the epoch's records and
its checkpoint, as the training loop does) on synthetic data of the model's input shape, at two lengths. The slope
is a step's cost inside an epoch, the intercept less the evaluation passes the per-epoch fixed cost
(repro/sweep/budget/epoch_cost.py prices both).

Each kind is timed with the first method that declares it and learns from no other run (baseline for plain steps,
class labels for the label look-ahead); the other kinds take the figures of the kind their estimate names, or the
plain one (repro/sweep/budget/epoch_cost.py).
"""

from __future__ import annotations

import math
import statistics
import tempfile

import torch

from repro.config import load_config, to_container
from repro.data.arrays import ArrayDataset
from repro.data.splits import make_split
from repro.methods import METHODS, method_declaration
from repro.models import SIGNAL_MODELS
from repro.runs.checkpoint import save_checkpoint
from repro.runs.rundir import RunDir
from repro.sweep.budget.clock import WALL_CLOCK, Clock
from repro.tracking.tracker import NullTracker
from repro.train import build_experiment, evaluate_epoch, run_epoch
from repro.training.progress import EpochProgress
from repro.training.run_data import RunData
from repro.training.step_cost import LABEL_LOOKAHEAD, PLAIN, StepCost

SHORT_STEPS = 3  # steps of the short epoch (at least 5 images per class); the long one has 3 times its images: the
LONG_FACTOR = 3  # difference gives the slope, far enough apart for timing noise
# The kinds whose whole epochs are timed; the others take the kind their estimate names, or the plain one
# (repro/sweep/budget/epoch_cost.py): their epochs differ from these in their steps, which are timed one by one.
EPOCH_KINDS = (PLAIN, LABEL_LOOKAHEAD)
MEASURED_EPOCHS = 3  # epochs per length; the first is the warm-up (lazy initialisation, autotuning), not counted


def method_for(kind: StepCost) -> str | None:
    """The first method (METHODS order) whose class declares `kind` and reads no other run."""
    for name in METHODS:
        declared = method_declaration(name)
        if declared.step_cost == kind and declared.source_option is None and name != "replay":
            return name
    return None


def synthetic_data(shape: tuple[int, int, int, int], n: int, n_test: int, augment: bool) -> RunData:
    """RunData of random images of `shape` (channels, height, width, classes), classes in turn, with a 20% held-out
    meta set (split=holdout's)."""
    channels, height, width, classes = shape
    gen = torch.Generator().manual_seed(0)

    def dataset(count: int) -> ArrayDataset:
        images = torch.randint(0, 256, (count, channels, height, width), generator=gen, dtype=torch.uint8)
        targets = torch.arange(count) % classes
        names = [str(c) for c in range(classes)]
        return ArrayDataset(images, targets, names, (0.5,) * channels, (0.25,) * channels, augment)

    train, test = dataset(n), dataset(n_test)
    train_idx, meta_idx = make_split(train.targets, meta_fraction=0.2, folds=5, fold=0, seed=0)
    noisy = torch.zeros(n, dtype=torch.bool)
    return RunData(train, test, train.targets, train.targets, noisy, train_idx, meta_idx)


def epoch_costs(
    model_name: str,
    kind: StepCost,
    device: str,
    *,
    batch: int,
    shape: tuple[int, int, int, int],
    clock: Clock = WALL_CLOCK,
) -> tuple[float, float] | None:
    """(ms per step inside an epoch, ms per epoch beyond steps and evaluation) of `kind` on `model_name` at its input
    `shape` (channels, height, width, classes), read on `clock`; None when no method without a teacher declares the
    kind."""
    method = method_for(kind)
    if method is None:
        return None
    if model_name in SIGNAL_MODELS:  # its input is MNIST-1D's signal (bench_shape), which is not augmented
        data = "mnist1d"
    else:
        data = "digits" if shape[1] < 32 else ("cifar100" if shape[3] == 100 else "cifar10")
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    timings: dict[int, float] = {}  # steps of an epoch -> its median seconds less its evaluation passes
    short = max(math.ceil(SHORT_STEPS * batch / 0.8), 5 * shape[3])  # a 20% meta set: every class in it
    with tempfile.TemporaryDirectory() as tmp:
        for n in (short, LONG_FACTOR * short):
            overrides = [f"model={model_name}", f"data={data}", f"method={method}", "split=holdout", f"device={device}"]
            overrides += ["tracker=none", "progress=none", f"output_root={tmp}", f"data.batch_size={batch}"]
            cfg = load_config(overrides)
            rd = RunDir.for_config(to_container(cfg))
            rd.path.mkdir(parents=True, exist_ok=True)
            exp = build_experiment(cfg, rd, synthetic_data(shape, n, 2 * batch, data not in ("digits", "mnist1d")))
            progress = EpochProgress(mode="none", total_epochs=MEASURED_EPOCHS, run_id=rd.run_id)
            seconds = []
            for epoch in range(MEASURED_EPOCHS):
                sync()
                start = clock.read()
                row = run_epoch(exp, epoch, progress)
                exp.record_epoch(epoch, row, NullTracker())
                save_checkpoint({**exp.state_dict(), "epoch": epoch + 1, "history": [row]}, rd.checkpoint_file)
                sync()
                seconds.append(clock.read() - start)
            evaluation = []
            for _ in range(MEASURED_EPOCHS - 1):
                sync()
                start = clock.read()
                evaluate_epoch(exp)
                sync()
                evaluation.append(clock.read() - start)
            timings[len(exp.batches.train)] = statistics.median(seconds[1:]) - statistics.median(evaluation)
    (short, t_short), (long, t_long) = sorted(timings.items())
    per_step = max((t_long - t_short) / (long - short), 0.0)
    return 1e3 * per_step, 1e3 * max(t_short - short * per_step, 0.0)
