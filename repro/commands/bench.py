"""`repro bench`: measure this GPU's per-step costs (plain step, meta step, eval forward) for the models, and store
them once per GPU model, so `repro sweep FILE --dry-run` estimates GPU-hours for the GPU you will run on.

Steps run with the defaults a run gets on this device (repro/training/hardware.py: channels_last on CUDA, fp32), on random
CIFAR-shaped batches; the median over timed steps after warm-up is stored.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import torch
import torch.nn.functional as F

from repro.sweep.costs import Calibration, H100_MS
from repro.errors import UserError

MODELS = ("resnet18", "vgg16", "wrn28_10", "alexnet", "smallcnn")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models", nargs="+", default=list(H100_MS) + ["alexnet"], choices=MODELS)
    parser.add_argument("--device", default="auto", choices=("auto", "cuda", "cpu"),
                        help="cpu only for trying the command; estimates are for GPUs")
    parser.add_argument("--batch", type=int, default=128, help="train batch (paper: 128)")
    parser.add_argument("--meta-batch", type=int, default=256, help="meta batch (paper: 256)")
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per variant (after 3 warm-up steps)")
    parser.add_argument("--no-save", action="store_true", help="print only; store no calibration")


def _median_ms(fn: Callable[[], None], steps: int, sync: Callable[[], None]) -> float:
    for _ in range(3):
        fn()
    sync()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def measure(model_name: str, hw, *, batch: int, meta_batch: int, classes: int, steps: int) -> dict[str, float]:
    """ms per plain step, per meta step, and per evaluated image, for one model on `hw`'s device."""
    from repro.labels import InstanceLabels
    from repro.losses import soft_cross_entropy
    from repro.meta import meta_label_step
    from repro.models import build_model

    channels, size = (1, 8) if model_name == "smallcnn" else (3, 32)
    torch.manual_seed(0)
    model = hw.prepare_model(build_model(model_name, num_classes=classes, in_channels=channels, image_size=size))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = hw.prepare_batch(torch.randn(batch, channels, size, size))
    x_meta = hw.prepare_batch(torch.randn(meta_batch, channels, size, size))
    y = torch.randint(0, classes, (batch,), device=hw.device)
    y_meta = torch.randint(0, classes, (meta_batch,), device=hw.device)
    idx = torch.arange(batch, device=hw.device)
    labels = InstanceLabels(batch, classes, y, init_target_prob=0.7, lr=10.0).to(hw.device)
    sync = torch.cuda.synchronize if hw.device.type == "cuda" else (lambda: None)

    def plain() -> None:
        optimizer.zero_grad(set_to_none=True)
        with hw.autocast():
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

    def meta() -> None:
        optimizer.zero_grad(set_to_none=True)
        with hw.autocast():
            logits, p = meta_label_step(model, labels, x, y, idx, x_meta, y_meta, lr=0.01, weight_decay=5e-4,
                                        compile_jvp=hw.compile_jvp)
            loss = soft_cross_entropy(logits, p)
        loss.backward()
        optimizer.step()

    @torch.no_grad()
    def evaluate() -> None:
        model.eval()
        with hw.autocast():
            model(x_meta).argmax(1)
        model.train()

    return {"plain": _median_ms(plain, steps, sync), "meta": _median_ms(meta, steps, sync),
            "eval_per_image": _median_ms(evaluate, steps, sync) / meta_batch}


def run(args: argparse.Namespace) -> int:
    from repro.training.hardware import Hardware

    hw = Hardware.from_config({"device": args.device})
    hw.apply()
    if hw.device.type != "cuda" and not args.no_save:
        print("note: no CUDA GPU here; the figures are stored under the CPU's name and only used where no GPU "
              "calibration exists")
    name = torch.cuda.get_device_name(hw.device) if hw.device.type == "cuda" else f"cpu-{torch.get_num_threads()}t"
    if min(args.batch, args.meta_batch, args.steps, args.classes) < 1:
        raise UserError("--batch, --meta-batch, --steps and --classes must be positive.")
    steps_ms, eval_ms = {}, {}
    print(f"{name}: batch {args.batch}, meta batch {args.meta_batch}, {args.classes} classes, "
          f"channels_last={hw.channels_last}")
    for model_name in args.models:
        got = measure(model_name, hw, batch=args.batch, meta_batch=args.meta_batch, classes=args.classes,
                      steps=args.steps)
        steps_ms[model_name] = {"plain": round(got["plain"], 3), "meta": round(got["meta"], 3)}
        eval_ms[model_name] = got["eval_per_image"]
        print(f"  {model_name:9} plain {got['plain']:8.2f} ms   meta {got['meta']:8.2f} ms   "
              f"meta/plain {got['meta'] / got['plain']:.2f}   eval {got['eval_per_image'] * 1e3:.2f} us/image")
    cal = Calibration(name, args.batch, steps_ms, eval_ms, f"measured {time.strftime('%Y-%m-%d')} by repro bench")
    if not args.no_save:
        print(f"stored: {cal.save()}")
    return 0
