"""The typed schema of a run's config: every key of every config group, its type, range or allowed values, and the
rules that tie keys together (repro/schema/declare.py says how a declaration reads). The YAML files beside this one
are presets of these keys (`optim/resnet18.yaml` is Table 9's values); their comments say where a value comes from,
the `why` here what a key means. `repro train --help` and docs/options.md are made from these declarations.

A network's keys are declared in repro/conf/networks.py (`model.name` picks the network), a noise model's on the
model (repro/data/noise/: `noise.kind` picks it) and a method's options on the method (repro/methods/: `method.name`
picks it, checked above the methods by repro.config).

Whether a key enters the run id is declared on it (`identity=False`: never; `neutral=`: unless at the value older
runs trained with; repro/schema/declare.py); repro/runs/rundir.py hashes what repro/schema/identity.py reads from
`Run` and the nodes below it."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Literal

from repro.conf.generators import GENERATED_DATA, Mnist1dGenerator
from repro.conf.networks import network_schema
from repro.conf.sweep_nodes import UNTUNED, Halving, Sweep, Tune, TuneRun
from repro.errors import UserError
from repro.schema import Slot, option, refuse, schema
from repro.schema.rules import Anything, Scalar

__all__ = [
    "METHOD_OPTIONS",
    "NOISE_OPTIONS",
    "UNTUNED",
    "Data",
    "Halving",
    "Optim",
    "Run",
    "Split",
    "Sweep",
    "TRACKERS",
    "Tune",
    "TuneRun",
]


@cache
def _group_options(group: str) -> tuple[str, ...]:
    """The options of a config group (its YAML files here): the data sets a run may name. Read from the files, not
    from repro/data/, which imports torch (seconds) when a sweep is planned; tests/schema/test_schema.py checks they
    are the names it loads."""
    folder = resources.files("repro.conf").joinpath(group)
    return tuple(sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml")))


@schema
class Data:
    """The data set and how much of it a run uses (repro/data/)."""

    name: str = option(choices=lambda: _group_options("data"), why="the data set (data=<name> sets it)")
    root: str | None = option(
        identity=False,
        why="CIFAR: the directory holding cifar-10-batches-py/ or cifar-100-python/ (never in the run id)",
    )
    num_classes: int = option(ge=2)
    in_channels: int = option(ge=1)
    image_size: int = option(ge=1)
    batch_size: int = option(ge=1, why="training batch (the paper: 128)")
    subset: int | None = option(ge=2, why="keep this many training samples (stratified, seeded by split.seed)")
    test_subset: int | None = option(ge=1, why="keep this many test samples (stratified), for quick runs")
    generator: Mnist1dGenerator = option(default=None, why="data=mnist1d: the arguments its samples are made from")

    def check(self) -> None:
        generated = self.name in GENERATED_DATA
        if generated != (self.generator is not None):
            raise UserError(
                f"data.generator is {'missing' if generated else 'set'} with data.name={self.name}: only "
                f"{', '.join(GENERATED_DATA)} is generated from data.generator's arguments. Choose the data set with "
                "its group option (data=<name>), which brings its keys, rather than setting data.name alone."
            )
        length = self.generator.final_seq_length if self.generator is not None else None
        if length is not None and length != self.image_size:
            raise UserError(
                f"data.image_size={self.image_size} but data.generator.final_seq_length={length}: the models are "
                "built for data.image_size, the signals are final_seq_length long. Set both to the same length."
            )


@schema
class Optim:
    """SGD and its learning-rate schedule (repro/training/schedule.py)."""

    lr: float = option(gt=0, why="base learning rate")
    momentum: float = option(ge=0, le=1)
    nesterov: bool = option()
    weight_decay: float = option(ge=0)
    epochs: int = option(ge=1, why="with optim.iterations: an upper bound (the iterations end the run)")
    schedule: Literal["cosine", "multistep", "constant"] = option()
    milestones: list[float] = option(gt=0, lt=1, why="multistep by epochs: fractions of the epochs")
    gamma: float = option(gt=0, why="multistep: the lr factor at each milestone")
    warmup_epochs: int = option(ge=0, why="linear warm-up (epoch-based schedules only)")
    iterations: int | None = option(default=None, ge=1, why="a schedule in optimizer steps (setting A)")
    milestone_iterations: list[int] = option(
        default_factory=list, ge=1, why="with optim.iterations: 1-based step numbers where the lr drops"
    )
    # The recipe presets' keys (repro/conf/optim/<choice>/*.yaml); their defaults leave every older run id as it was.
    lr_floor: float = option(default=0.0, neutral=0.0, ge=0, lt=1, why="cosine decays to this fraction of the peak lr")
    lookahead_lr: Literal["current", "peak"] = option(
        default="current",
        neutral="current",
        why="the look-ahead's lr: the optimizer's current one, or the peak optim.lr",
    )

    def check(self) -> None:
        if self.iterations is None:
            return
        if self.warmup_epochs:
            raise UserError(
                f"optim.warmup_epochs={self.warmup_epochs} with optim.iterations={self.iterations}: an "
                "iteration-based schedule has no warm-up in epochs. Set optim.warmup_epochs=0, or drop "
                "optim.iterations to train by epochs."
            )
        milestones = list(self.milestone_iterations)
        bad = [m for m in milestones if not 1 <= m <= self.iterations]
        if bad or milestones != sorted(milestones):
            raise UserError(
                f"optim.milestone_iterations={milestones} must be increasing step numbers in [1, {self.iterations}] "
                f"(optim.iterations); {bad or 'they are not increasing'}. Meta-Weight-Net's WRN-28-10 uses "
                "[18000, 19000]."
            )


@schema
class Split:
    """The held-out meta (validation) set and the folds of the 5-fold protocol (repro/data/splits.py)."""

    meta_fraction: float = option(gt=0, lt=1, why="share of each class held out as the meta set")
    folds: int = option(ge=1, why="folds of the protocol; each holds out a disjoint meta set")
    fold: int = option(ge=0, why="which fold this run holds out (0..folds-1)")
    seed: int = option(ge=0, why="the split's permutation (and data.subset's)")
    full_train: bool = option(why="train on the whole training set (the final stage): no meta set")
    held_out_labels: Literal["clean", "noisy"] = option(
        default="clean",
        neutral="clean",  # added after runs existed: theirs held out clean labels
        why="the held-out part's labels: clean (CIFAR's own) or noisy (the noise model's: a validation set that "
        "uses no clean label; no meta-set method then)",
    )

    def check(self) -> None:
        if not 0 <= self.fold < self.folds:
            raise UserError(
                f"split.fold={self.fold} with split.folds={self.folds}: the fold index must be in "
                f"0..{max(self.folds - 1, 0)} (the paper's protocol uses 5 folds, 0..4)."
            )
        if self.meta_fraction * self.folds > 1.0 + 1e-9:
            raise UserError(
                f"split.meta_fraction={self.meta_fraction} with split.folds={self.folds}: the folds' meta sets would "
                f"overlap ({self.meta_fraction} x {self.folds} > 1); lower one of them."
            )


@schema
class NoTracker:
    """No experiment tracker: the run directory is the record."""

    kind: Literal["none"] = option()


@schema
class WandbTimeouts:
    """Seconds W&B may take (repro/tracking/wandb_bounds.py): past them the run logs offline and trains on."""

    total: float = option(gt=0, why="the run's whole wait on W&B, every call counted; past it the run logs offline")
    init: float = option(gt=0, why="start an online run; past it the run logs offline")
    finish: float = option(gt=0, why="upload what is left at the end")
    call: float = option(gt=0, why="any one log, summary, chart or artifact call")
    teardown: float = option(gt=0, why="stop W&B's service after an online run or a failure")
    service_wait: float = option(gt=0, why="W&B's local service process to start")
    request: float = option(gt=0, why="one HTTP request to W&B")
    retry_wait_max: float = option(gt=0, why="the longest backoff between retries")


@schema
class WandbTracker:
    """Weights & Biases (repro/tracking/): offline unless tracker.mode=online."""

    kind: Literal["wandb"] = option()
    mode: Literal["online", "offline", "disabled", "dryrun", "run"] = option(why="dryrun / run: W&B's legacy names")
    project: str = option()
    entity: str | None = option(why="the W&B team or user; null: your default entity")
    tags: list[str] = option(default_factory=list, why="W&B tags (not in the run id)")
    log_checkpoint: bool = option(why="upload the final checkpoint as an artifact (else a reference to the file)")
    timeouts: WandbTimeouts = option(why="how long W&B may hold a run, in seconds (docs/wandb.md, Bounds)")
    retries: int = option(ge=0, why="retries of a request answered 429 or 5xx, or cut off")


TRACKERS: dict[str, type] = {"none": NoTracker, "wandb": WandbTracker}


def tracker_schema(node: Any, key: str) -> type:
    """The schema of a tracker node, by its `kind`."""
    kind = node.get("kind") if isinstance(node, dict) else None
    if kind not in TRACKERS:
        refuse(f"{key}.kind", kind, "one of " + ", ".join(repr(k) for k in TRACKERS))
    return TRACKERS[kind]


# A run's `noise` node is declared by its noise model (repro/data/noise/: `noise.kind` picks it), a module of torch
# code that a config's declaration does not import: repro/data/noise/ fills this in when imported (repro.config_tree
# imports it), and the checks and the run id read the model's `Options` through it.
NOISE_OPTIONS = Slot("noise", filled_by="repro.data.noise")

# The run's `method` node is declared by its method (repro/methods/, above this layer): repro/methods/ fills this in
# when imported, and the run id reads the method's `identity` declarations through it.
METHOD_OPTIONS = Slot("method", filled_by="repro.methods")


@schema
class Run:
    """A run's whole config: the groups, then the top-level keys. `identity=False`: a key that never changes results
    (where the run is stored and shown, what hardware it runs on); `neutral`: a key added after runs existed, at the
    value they trained with."""

    data: Data = option()
    model: Any = option(select=network_schema, why="the network and its keys (model=<name> picks them)")
    optim: Optim = option()
    method: Any = option(
        rule=Anything(),
        identity_select=METHOD_OPTIONS,
        why="the method's options: its own declaration (repro/methods/)",
    )
    noise: Any = option(select=NOISE_OPTIONS, why="the noise model's keys (noise.kind picks the model)")
    split: Split = option()
    tracker: Any = option(select=tracker_schema, identity=False, why="the experiment tracker (tracker.kind picks it)")
    seed: int = option(ge=0, why="model init, data order, augmentation")
    output_root: str = option(identity=False, why="runs land in <output_root>/runs/<run_id>/")
    progress: Literal["auto", "bar", "plain", "none"] = option(
        identity=False, why="auto: a bar on a terminal, a line per epoch else"
    )
    eval_batch_size: int = option(ge=1, identity=False)
    # `device` and `channels_last` change only the float rounding (like cuDNN's kernel choice), not the statistics: a
    # run may move between a GPU and a CPU, or between memory formats, and stay the same run (provenance.json records
    # the device it ran on).
    device: Literal["auto", "cuda", "cpu"] = option(
        identity=False, why="auto: CUDA when available (never in the run id)"
    )
    precision: Literal["fp32", "bf16"] = option(
        neutral="fp32", why="bf16: bfloat16 autocast; label and weight updates stay fp32"
    )
    channels_last: Literal["auto"] | bool = option(identity=False, why="auto: on, CPU and CUDA (never in the run id)")
    compile_jvp: bool = option(neutral=False, why="torch.compile the meta-gradient's JVP")
    deterministic: bool = option(neutral=False, why="deterministic kernels: the same bits on resume, slower")
    tune: Tune = option(neutral=UNTUNED)
    halving: Halving = option(
        default_factory=dict,
        identity=False,
        why="successive halving's rung, on a tuning run (never in the run id)",
    )
    sweep: Sweep = option(identity=False)
    memorisation_samples: int | None = option(
        ge=0,
        identity=False,
        why="noisy runs: training samples whose memorisation is measured per epoch (null: all, 0: off)",
    )
    notes: Any = option(rule=Scalar(), identity=False, why="free text kept with the run (never in the run id)")
