"""The bad-input corpus (tests/project/test_bad_input.py runs it): every case must exit non-zero (2: bad input)
with a one-paragraph `error: ...`, no traceback, and leave every file that existed byte-identical.

Add a case in one line: Case(name, argv, setup). In argv, {tmp} is the test's directory and {out} its output root
(`{tmp}/out`, which holds one finished tiny digits run, `{run}`, built once per module), and {mirror} the URL a
loopback server serves `{tmp}/mirror/` at (tests/loopback_mirror.py); `setup(tmp)` writes the bad file. Each case gets
its own copy of that tree.
"""

from __future__ import annotations

import functools
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from presets import QUIET
from repro.config import load_config, to_container
from repro.runs.rundir import RunDir

RUN = [
    "data.subset=300",
    "data.test_subset=100",
    "optim.epochs=1",
    *QUIET,
    "method=class_labels",
    "split.folds=2",
]


def write(rel: str, text: str | bytes) -> Callable[[Path], None]:
    """A setup that writes `text` to {tmp}/rel ({run} names the run directory)."""

    def setup(tmp: Path) -> None:
        path = tmp / rel.replace("{run}", str(run_dir(tmp).path.relative_to(tmp)))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else textwrap.dedent(text).encode())

    return setup


def sweep(text: str) -> Callable[[Path], None]:
    return write("sweep.yaml", text)


def torch_file(rel: str, obj) -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        path = tmp / rel.replace("{run}", str(run_dir(tmp).path.relative_to(tmp)))
        torch.save(obj, path)

    return setup


@functools.cache
def finished_run_under_tmp() -> Path:
    """Where the finished run lies under a case's {tmp}: the same for every case (the output root enters no run id),
    so composed once per process, not once or twice per case (a Hydra composition each, a fifth of a case's CPU)."""
    tmp = Path("/a-case-tmp")
    return RunDir.for_config(to_container(load_config([*RUN, f"output_root={tmp / 'out'}"]))).path.relative_to(tmp)


def run_dir(tmp: Path) -> RunDir:
    return RunDir(tmp / finished_run_under_tmp())


def unfinished(then: Callable[[Path], None] | None = None) -> Callable[[Path], None]:
    """Make the finished run unfinished (no summary), so that `repro train` reads its checkpoint; then `then`."""

    def setup(tmp: Path) -> None:
        run_dir(tmp).summary_file.unlink()
        if then:
            then(tmp)

    return setup


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def other_dataset_checkpoint(tmp: Path) -> None:
    """The checkpoint of a 10-class run, its head reshaped as if it came from a 100-class data set."""
    rd = run_dir(tmp)
    state = torch.load(rd.checkpoint_file, weights_only=True)
    for key in list(state["model"]):
        if state["model"][key].shape[:1] == (10,):
            state["model"][key] = torch.zeros(100, *state["model"][key].shape[1:])
    torch.save(state, rd.checkpoint_file)


@dataclass(frozen=True)
class Case:
    name: str
    argv: list[str]
    setup: Callable[[Path], None] | None = None
    code: int = 2
    says: str = ""  # a text the error must contain ({tmp}, {out} and RUN filled in as in argv)


TRAIN = ["train", *RUN, "output_root={out}"]
RUN_CASES = [
    Case("seed not an integer", [*TRAIN, "seed=abc"]),
    Case("seed negative", [*TRAIN, "seed=-1"]),
    Case("learning rate nan", [*TRAIN, "optim.lr=nan"]),
    Case("label learning rate inf", [*TRAIN, "method.label_lr=inf"]),
    Case("epochs a float", [*TRAIN, "optim.epochs=2.5"]),
    Case("batch size zero", [*TRAIN, "data.batch_size=0"]),
    Case("noise fraction out of range", [*TRAIN, "noise=uniform", "noise.fraction=1.5"]),
    Case("unknown noise model", [*TRAIN, "noise=uniform", "noise.kind=pairflip"]),
    Case("exact noise of under 2 samples", [*TRAIN, "split=noisy", "noise=exact_fraction", "noise.fraction=0.001"]),
    Case("iterations zero", [*TRAIN, "optim=setting_a", "optim.iterations=0"]),
    Case("milestone past the iterations", [*TRAIN, "optim=setting_a", "optim.milestone_iterations=[18000,25000]"]),
    Case("unknown co-teaching default rate", [*TRAIN, "method=coteaching", "method.default_forget_rate=guess"]),
    Case("momentum a string", [*TRAIN, "optim.momentum=fast"]),
    Case("milestone outside (0, 1)", [*TRAIN, "optim.schedule=multistep", "optim.milestones=[0.5,3]"]),
    Case("unknown schedule", [*TRAIN, "optim.schedule=linear"]),
    Case("unknown curriculum sign", [*TRAIN, "method=instance_labels", "method.curriculum_weight=rising"]),
    Case("unknown curriculum placement", [*TRAIN, "method=instance_labels", "method.curriculum_placement=meta"]),
    Case("look-ahead decay not a bool", [*TRAIN, "method.lookahead_weight_decay=0.5"]),
    Case("L2RW meta cost decay not a bool", [*TRAIN, "method=l2rw", "split=noisy", "method.meta_cost_weight_decay=2"]),
    Case(
        "replay fold runs' look-ahead not a bool",
        [*TRAIN, "method=replay", "split=full", "method.learn.lookahead_weight_decay=yes"],
    ),
    Case("fold past the folds", [*TRAIN, "split.fold=9"]),
    Case("unknown model", [*TRAIN, "model=nosuchnet"]),
    Case("unknown key", [*TRAIN, "nosuchkey=1"]),
    Case("unbalanced override", [*TRAIN, "optim.lr=[0.1"]),
    Case("missing CIFAR directory", [*TRAIN, "data=cifar10", "model=resnet18", "data.root={tmp}/nope"]),
    Case("output root is a file", ["train", *RUN, "output_root={tmp}/afile"], write("afile", "x")),
    # path keys take any path as given (repro/path_keys.py): the error names the exact path
    Case(
        "output root with accents, spaces, = and brackets is a file",
        ["train", *RUN, "output_root={tmp}/é f=[1]"],
        write("é f=[1]", "x"),
        says="{tmp}/é f=[1]",
    ),
    Case(
        "missing CIFAR directory with accents, spaces, = and brackets",
        [*TRAIN, "data=cifar10", "model=resnet18", "data.root={tmp}/nö pe=[1]"],
        says="{tmp}/nö pe=[1]",
    ),
    Case(
        "teacher run directory with accents, spaces, = and brackets holds no run",
        [*TRAIN, "method=distillation", "method.teacher={tmp}/tëacher a=[1]"],
        says="{tmp}/tëacher a=[1]",
    ),
    Case(
        "label-source run directory with accents, spaces, = and brackets holds no run",
        [*TRAIN, "method=transferred_labels", "method.source={tmp}/sö urce=[1]"],
        says="{tmp}/sö urce=[1]",
    ),
    Case(
        "estimator run directory with accents, spaces, = and brackets holds no run",
        [
            *TRAIN,
            "method=loss_correction",
            "noise=uniform",
            "noise.fraction=0.2",
            "method.transition=estimated",
            "method.estimator={tmp}/ëst imator=[1]",
        ],
        says="{tmp}/ëst imator=[1]",
    ),
    Case("corrupted checkpoint", TRAIN, unfinished(write("{run}/checkpoint.pt", b"PK\x03\x04garbage"))),
    Case("checkpoint of another project", TRAIN, unfinished(torch_file("{run}/checkpoint.pt", {"weights": 1}))),
    Case("run directory from another data set", TRAIN, unfinished(other_dataset_checkpoint)),
    Case("truncated checkpoint", TRAIN, unfinished(lambda tmp: truncate(run_dir(tmp).checkpoint_file))),
    # another run's damaged record (repro/runs/records.py): the error names the run and the file, and says what to do
    Case(
        "own summary damaged",
        TRAIN,
        lambda tmp: truncate(run_dir(tmp).summary_file),
        says="RUN has a damaged summary.json",
    ),
    Case(
        "tuning run's summary damaged",
        [*TRAIN, "tune.keys=[method.label_lr]", "tune.runs=[{run:RUN,values:[25]}]"],
        lambda tmp: truncate(run_dir(tmp).summary_file),
        says="tuning run RUN has a damaged summary.json",
    ),
    Case(
        "teacher's checkpoint damaged",
        [*TRAIN, "method=distillation", "method.teacher=RUN"],
        lambda tmp: truncate(run_dir(tmp).checkpoint_file),
        says="teacher run RUN has a damaged checkpoint.pt",
    ),
    Case(
        "teacher's summary damaged",
        [*TRAIN, "method=distillation", "method.teacher=RUN"],
        write("{run}/summary.json", "[1, 2"),
        says="teacher run RUN has a damaged summary.json",
    ),
    Case(
        "label source's config damaged",
        [*TRAIN, "method=transferred_labels", "method.source=RUN"],
        write("{run}/config.yaml", "data: [unclosed\n"),
        says="label-source run RUN has a damaged config.yaml",
    ),
    Case(
        "label source's labels damaged",
        [*TRAIN, "method=transferred_labels", "method.source=RUN"],
        lambda tmp: truncate(run_dir(tmp).labels_dir / "class_target_prob.npy"),
        says="RUN",
    ),
    Case(
        "estimator run's config damaged",
        [
            *TRAIN,
            "method=loss_correction",
            "noise=uniform",
            "noise.fraction=0.2",
            "method.transition=estimated",
            "method.estimator=RUN",
        ],
        write("{run}/config.yaml", "- not a config\n"),
        says="estimator run RUN has a damaged config.yaml",
    ),
    Case(
        "replay's fold run's summary damaged",
        [*TRAIN, "method=replay", "method.learn.method=class_labels"],
        write("{run}/summary.json", '{"final_test_acc": '),
        says="fold run (fold 0) RUN has a damaged summary.json",
    ),
]
