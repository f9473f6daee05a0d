"""Cost of one meta step (repro.meta.meta_label_step + the real backward + optimizer step) against a plain SGD
step, the double-backward reference (testing_support/reference_meta.py) and the floor parts it cannot avoid.

Times: one process, the same batches, every variant on its own copy of the model; variants run round-robin
(so load changes on a shared machine hit all of them alike) and the median over repeats after warm-up is
reported. Memory: the peak resident-set growth of one step after a warm-up step, each variant in a fresh subprocess
(benchmarks/peak_memory.py).

    .venv/bin/python -m benchmarks.meta_step                      # both models
    .venv/bin/python -m benchmarks.meta_step --models smallcnn --repeats 21
    .venv/bin/python -m benchmarks.meta_step --device cuda        # the lever table on a GPU (benchmarks/levers.py)
    .venv/bin/python -m benchmarks.meta_step --levers --models smallcnn   # the same columns on the CPU
Then the reweighting methods' steps (L2RW, Meta-Weight-Net) through the same engine against their authors'
double-backward way (benchmarks/reweighting.py; --no-reweighting skips them).
"""

from __future__ import annotations

import argparse
import copy
import sys
from typing import Callable

import torch
import torch.nn.functional as F
from tabulate import tabulate

from benchmarks.peak_memory import child_peak_mib, peak_rss_growth_mib, print_peak
from benchmarks.roundrobin import round_robin_medians
from repro.labels import InstanceLabels
from repro.losses import soft_cross_entropy
from repro.meta import Batch, LookAhead, MetaBatch, meta_label_step
from repro.meta.virtual import log_prob_jvp, trainable_parameters
from repro.models import build_model
from testing_support.reference_meta import reference_label_meta_gradient

LR, WEIGHT_DECAY, LABEL_LR = 0.01, 1e-3, 10.0
MODELS = {  # name -> (build kwargs, input shape, classes)
    "smallcnn": (dict(num_classes=10, in_channels=1, image_size=8), (1, 8, 8), 10),
    "resnet18": (dict(num_classes=100, in_channels=3, image_size=32), (3, 32, 32), 100),
    "wrn28_10": (dict(num_classes=100, in_channels=3, image_size=32), (3, 32, 32), 100),
    "vgg16": (dict(num_classes=100, in_channels=3, image_size=32), (3, 32, 32), 100),
}
CPU_MODELS = ["smallcnn", "resnet18"]  # the default on the CPU (WRN-28-10 takes minutes per step there)
STEPS = ["plain", "ours", "ours_compiled", "reference"]
FLOOR_PARTS = ["train_fwd_bwd", "meta_fwd_bwd", "jvp", "train_bwd", "optimizer_step"]
DESCRIPTIONS = {
    "plain": "plain SGD step (fwd + bwd + step)",
    "ours": "our meta step (meta_label_step + bwd + step)",
    "ours_compiled": "our meta step, compile_jvp=True",
    "reference": "double-backward reference meta step",
    "train_fwd_bwd": "floor: train forward + backward",
    "meta_fwd_bwd": "floor: meta-batch forward + backward",
    "jvp": "floor: the JVP alone",
    "train_bwd": "extra: a train backward alone",
    "optimizer_step": "extra: optimizer step alone",
}


class Bench:
    """One model, fixed batches, and a closure per variant (each variant owns a copy of the model)."""

    def __init__(self, model_name: str, batch: int, meta_batch: int, compile_jvp: bool) -> None:
        kwargs, shape, classes = MODELS[model_name]
        torch.manual_seed(0)
        self.base = build_model(model_name, **kwargs)
        gen = torch.Generator().manual_seed(1)
        self.x = torch.randn(batch, *shape, generator=gen)
        self.y = torch.randint(0, classes, (batch,), generator=gen)
        self.idx = torch.arange(batch)
        self.x_meta = torch.randn(meta_batch, *shape, generator=gen)
        self.y_meta = torch.randint(0, classes, (meta_batch,), generator=gen)
        self.classes = classes
        self.compile_jvp = compile_jvp

    def _fresh(self):
        model = copy.deepcopy(self.base)
        optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9, weight_decay=WEIGHT_DECAY)
        labels = InstanceLabels(len(self.y), self.classes, self.y, init_target_prob=0.7, lr=LABEL_LR)
        return model, optimizer, labels

    def variant(self, name: str) -> Callable[[], None]:
        model, optimizer, labels = self._fresh()
        x, y, idx, x_meta, y_meta = self.x, self.y, self.idx, self.x_meta, self.y_meta

        def plain() -> None:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()

        def ours(compile_jvp: bool = False) -> None:
            optimizer.zero_grad()
            step = LookAhead(LR, WEIGHT_DECAY, compile_jvp=compile_jvp)
            logits, p_new = meta_label_step(model, labels, Batch(x, y, idx), MetaBatch(x_meta, y_meta), step)
            soft_cross_entropy(logits, p_new).backward()
            optimizer.step()

        def reference() -> None:
            optimizer.zero_grad()
            p = labels.soft_labels(idx, y)
            logits = model(x)
            grad_p = reference_label_meta_gradient(
                model, x, p, x_meta, y_meta, lr=LR, weight_decay=WEIGHT_DECAY, logits=logits
            )
            labels.apply_meta_gradient(idx, y, grad_p)
            soft_cross_entropy(logits, labels.soft_labels(idx, y)).backward()
            optimizer.step()

        p_fixed = labels.soft_labels(idx, y)
        params = trainable_parameters(model)
        tangents = [torch.randn_like(t) * 1e-3 for t in params.values()]
        held: dict[str, torch.Tensor] = {}

        def train_fwd_bwd() -> None:
            model.zero_grad()
            soft_cross_entropy(model(x), p_fixed).backward()

        def meta_fwd_bwd() -> None:
            model.zero_grad()
            F.cross_entropy(model(x_meta), y_meta).backward()

        def jvp() -> None:
            log_prob_jvp(model, params, x, tangents)

        def train_bwd_setup() -> None:  # untimed: the forward whose backward is timed
            model.zero_grad()
            held["loss"] = soft_cross_entropy(model(x), p_fixed)

        def train_bwd() -> None:
            held.pop("loss").backward()

        def optimizer_step() -> None:
            optimizer.step()

        if name == "optimizer_step":  # give the optimizer gradients (and momentum) to work on
            soft_cross_entropy(model(x), p_fixed).backward()
            optimizer.step()

        train_bwd.setup = train_bwd_setup  # type: ignore[attr-defined]
        closures = dict(
            plain=plain,
            ours=ours,
            ours_compiled=lambda: ours(True),
            reference=reference,
            train_fwd_bwd=train_fwd_bwd,
            meta_fwd_bwd=meta_fwd_bwd,
            jvp=jvp,
            train_bwd=train_bwd,
            optimizer_step=optimizer_step,
        )
        return closures[name]


def time_variants(bench: Bench, names: list[str], warmup: int, repeats: int) -> dict[str, float]:
    """Median seconds per call, variants interleaved round-robin."""
    return round_robin_medians({name: bench.variant(name) for name in names}, warmup=warmup, repeats=repeats)


def memory_child(args: argparse.Namespace) -> None:
    """Runs in a fresh process: peak RSS growth (MiB) of one step of one variant, after one warm-up step."""
    torch.set_num_threads(args.threads)
    bench = Bench(args.memory_child_model, args.child_batch, args.child_meta_batch, compile_jvp=False)
    fn = bench.variant(args.memory_child)
    print_peak(peak_rss_growth_mib(fn, getattr(fn, "setup", None)))


def measure_memory(model_name: str, name: str, batch: int, meta_batch: int, threads: int) -> float | None:
    child = ["--memory-child", name, "--memory-child-model", model_name, "--child-batch", str(batch)]
    child += ["--child-meta-batch", str(meta_batch), "--threads", str(threads)]
    return child_peak_mib("benchmarks.meta_step", child, name)


def report(
    model_name: str, batch: int, meta_batch: int, times: dict[str, float], memory: dict[str, float | None]
) -> None:
    plain = times["plain"]
    rows = []
    for name, seconds in times.items():
        mib = memory.get(name)
        rows.append(
            [
                name,
                DESCRIPTIONS[name],
                f"{seconds * 1e3:.1f}",
                f"{seconds / plain:.2f}",
                "-" if mib is None else f"{mib:.1f}",
            ]
        )
    print(f"\n## {model_name}: train batch {batch}, meta batch {meta_batch}, {torch.get_num_threads()} thread(s)\n")
    print(tabulate(rows, headers=["variant", "what", "median ms", "x plain step", "peak RSS growth MiB"]))
    floor = times["train_fwd_bwd"] + times["meta_fwd_bwd"] + times["jvp"]
    full_floor = floor + times["train_bwd"] + times["optimizer_step"]
    ours, reference = times["ours"], times["reference"]
    summary = [
        ["ours / floor (train f+b + meta f+b + JVP)", f"{ours / floor:.2f}", "<= 1.15"],
        ["ours / (floor + 2nd train backward + optimizer step)", f"{ours / full_floor:.2f}", "(what the step must do)"],
        ["reference / ours (speed-up)", f"{reference / ours:.2f}", ">= 1.4"],
    ]
    if "ours_compiled" in times:
        summary.append(["reference / ours with compiled JVP", f"{reference / times['ours_compiled']:.2f}", ""])
    if memory.get("ours") and memory.get("reference"):
        summary.append(["peak RSS growth ours / reference", f"{memory['ours'] / memory['reference']:.2f}", "< 1"])
    print()
    print(tabulate(summary, headers=["ratio", "measured", "goal"]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--models",
        nargs="+",
        choices=list(MODELS),
        help="default: smallcnn resnet18 on the CPU; resnet18 wrn28_10 vgg16 with --device cuda",
    )
    parser.add_argument(
        "--device",
        default="cpu",
        choices=("cpu", "cuda"),
        help="cuda: the lever table (channels_last, bf16, compiled JVP) at batch 128 / meta 256",
    )
    parser.add_argument("--levers", action="store_true", help="the lever table on --device (implied by cuda)")
    parser.add_argument("--batch", type=int, default=128, help="train batch for the small CNN (paper: 128)")
    parser.add_argument("--meta-batch", type=int, default=256, help="meta batch for the small CNN (paper: 256)")
    parser.add_argument("--resnet-batch", type=int, default=32, help="ResNet18 train batch (smaller on CPU)")
    parser.add_argument("--resnet-meta-batch", type=int, default=64, help="ResNet18 meta batch")
    parser.add_argument("--repeats", type=int, default=15, help="timed rounds for the small CNN")
    parser.add_argument("--resnet-repeats", type=int, default=5, help="timed rounds for ResNet18")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--compile-jvp", action="store_true", help="also time meta steps with compile_jvp=True")
    parser.add_argument("--no-memory", action="store_true", help="skip the per-variant memory subprocesses")
    parser.add_argument("--no-reweighting", action="store_true", help="skip the L2RW / MWNet step table")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    parser.add_argument("--memory-child-model", help=argparse.SUPPRESS)
    parser.add_argument("--child-batch", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-meta-batch", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_child(args)
        return
    torch.set_num_threads(args.threads)
    if args.device == "cuda" or args.levers:
        run_levers(args)
        return
    for model_name in args.models or CPU_MODELS:
        small = model_name == "smallcnn"
        batch = args.batch if small else args.resnet_batch
        meta_batch = args.meta_batch if small else args.resnet_meta_batch
        repeats = args.repeats if small else args.resnet_repeats
        names = [n for n in STEPS if n != "ours_compiled" or args.compile_jvp] + FLOOR_PARTS
        bench = Bench(model_name, batch, meta_batch, args.compile_jvp)
        times = time_variants(bench, names, args.warmup, repeats)
        memory: dict[str, float | None] = {}
        if not args.no_memory:
            for name in ("plain", "ours", "reference", "train_fwd_bwd", "meta_fwd_bwd", "jvp"):
                memory[name] = measure_memory(model_name, name, batch, meta_batch, args.threads)
        report(model_name, batch, meta_batch, times, memory)
    if not args.no_reweighting:
        from benchmarks.reweighting import main as reweighting_main

        reweighting_main(
            [
                "--threads",
                str(args.threads),
                "--device",
                args.device,
                *(["--models", *args.models] if args.models else []),
                *(["--no-memory"] if args.no_memory else []),
            ]
        )


def run_levers(args: argparse.Namespace) -> None:
    from benchmarks.levers import lever_table, time_levers

    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA GPU here (`repro doctor` says why)")
    gpu = args.device == "cuda"
    torch.backends.cudnn.benchmark = gpu
    results = {}
    for model_name in args.models or (["resnet18", "wrn28_10", "vgg16"] if gpu else ["smallcnn"]):
        kwargs, shape, classes = MODELS[model_name]
        small = model_name == "smallcnn"
        batch = 128 if gpu or small else args.resnet_batch
        meta_batch = 256 if gpu or small else args.resnet_meta_batch
        torch.manual_seed(0)
        results[model_name] = time_levers(
            build_model(model_name, **kwargs),
            shape,
            classes,
            batch=batch,
            meta_batch=meta_batch,
            device=args.device,
            warmup=max(args.warmup, 3),
            repeats=args.repeats if gpu or small else args.resnet_repeats,
        )
        print(f"{model_name} done", file=sys.stderr)
    name = torch.cuda.get_device_name(0) if gpu else f"CPU, {torch.get_num_threads()} thread(s)"
    print(lever_table(results, name, f"torch {torch.__version__}, batch {batch} / meta {meta_batch}"))


if __name__ == "__main__":
    main()
