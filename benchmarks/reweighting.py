"""Cost of one L2RW step and one Meta-Weight-Net step through the shared engine (one forward-mode JVP,
repro/meta/weights.py) against the double-backward way their authors' code computes them (a create_graph look-ahead
through torch.func.functional_call, differentiated back to the weights or the weighting net), and a plain SGD step.

Every variant is a whole training step (meta-gradient, weighting-net step for MW-Net, model step) on its own copy of
the model, on the same batches. The references reuse the train forward for the model step (the authors' code runs a
second forward; so the measured speed-up is, if anything, on the low side). Variants run round-robin and the median
over repeats after warm-up is reported. Memory: on CUDA the peak allocated memory of one step; on CPU the peak
resident-set growth of one step after a warm-up step, each variant in a fresh subprocess (benchmarks/peak_memory.py).

    .venv/bin/python -m benchmarks.reweighting                       # small CNN and ResNet18, 1 thread
    .venv/bin/python -m benchmarks.reweighting --models smallcnn --repeats 21 --threads 2
"""

from __future__ import annotations

import argparse
import copy
from typing import Callable

import torch
import torch.nn.functional as F
from tabulate import tabulate
from torch.func import functional_call

from benchmarks.peak_memory import child_peak_mib, peak_rss_growth_mib, print_peak
from benchmarks.roundrobin import round_robin_medians
from repro.losses import soft_cross_entropy
from repro.meta import LookAhead, MetaBatch
from repro.methods.l2rw import l2rw_step, l2rw_weights
from repro.methods.mwnet import Weighting, WeightingNet, step_weights, weighting_net_backward
from repro.models import build_model

LR, WEIGHT_DECAY = 0.1, 5e-4
MODELS = {  # name -> (build kwargs, input shape, classes)
    "smallcnn": (dict(num_classes=10, in_channels=1, image_size=8), (1, 8, 8), 10),
    "resnet18": (dict(num_classes=100, in_channels=3, image_size=32), (3, 32, 32), 100),
}
VARIANTS = ["plain", "l2rw_ours", "l2rw_reference", "mwnet_ours", "mwnet_reference"]


def _lookahead_meta_loss(model, loss, x_meta, y_meta, lr):
    """Their double backward: theta' = theta - lr * grad(loss) with create_graph, L_meta(theta')."""
    names = [n for n, q in model.named_parameters() if q.requires_grad]
    params = [q for q in model.parameters() if q.requires_grad]
    grads = torch.autograd.grad(loss, params, create_graph=True)
    theta = {n: q - lr * g for n, q, g in zip(names, params, grads)}
    buffers = {n: b.clone() for n, b in model.named_buffers()}
    return F.cross_entropy(functional_call(model, {**theta, **buffers}, (x_meta,)), y_meta)


class Bench:
    def __init__(self, model_name: str, batch: int, meta_batch: int, device: torch.device) -> None:
        kwargs, shape, classes = MODELS[model_name]
        torch.manual_seed(0)
        self.base = build_model(model_name, **kwargs).to(device)
        self.vnet_base = WeightingNet(100).to(device)
        gen = torch.Generator().manual_seed(1)
        self.x = torch.randn(batch, *shape, generator=gen).to(device)
        self.y = torch.randint(0, classes, (batch,), generator=gen).to(device)
        self.x_meta = torch.randn(meta_batch, *shape, generator=gen).to(device)
        self.y_meta = torch.randint(0, classes, (meta_batch,), generator=gen).to(device)
        self.classes = classes

    def variant(self, name: str) -> Callable[[], None]:
        model = copy.deepcopy(self.base)
        opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9, nesterov=True, weight_decay=WEIGHT_DECAY)
        vnet = copy.deepcopy(self.vnet_base)
        vopt = torch.optim.SGD(vnet.parameters(), lr=1e-3, momentum=0.9, nesterov=True, weight_decay=5e-4)
        x, y, x_meta, y_meta, n = self.x, self.y, self.x_meta, self.y_meta, len(self.y)
        p = F.one_hot(y, self.classes).float()
        meta, lookahead, weighting = MetaBatch(x_meta, y_meta), LookAhead(LR), Weighting(vnet, normalize=True)

        def plain() -> None:
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()

        def l2rw_ours() -> None:
            logits, w = l2rw_step(model, x, y, meta, lookahead, self.classes)
            opt.zero_grad()
            (w * F.cross_entropy(logits, y, reduction="none")).sum().backward()
            opt.step()

        def l2rw_reference() -> None:
            logits = model(x)
            ce = F.cross_entropy(logits, y, reduction="none")
            eps = torch.zeros(n, device=x.device, requires_grad=True)
            meta = _lookahead_meta_loss(model, (eps * ce).sum(), x_meta, y_meta, LR)
            w = l2rw_weights(torch.autograd.grad(meta, eps)[0])
            opt.zero_grad()
            (w * ce).sum().backward()
            opt.step()

        def mwnet_ours() -> None:
            vopt.zero_grad()
            logits, loss_i = weighting_net_backward(model, weighting, x, p, meta, lookahead)
            vopt.step()
            with torch.no_grad():
                w = step_weights(vnet(loss_i[:, None])[:, 0], True)
            opt.zero_grad()
            soft_cross_entropy(logits, p, w).backward()
            opt.step()

        def mwnet_reference() -> None:
            logits = model(x)
            ce = F.cross_entropy(logits, y, reduction="none")
            w = step_weights(vnet(ce.detach()[:, None])[:, 0], True)
            meta = _lookahead_meta_loss(model, (w * ce).mean(), x_meta, y_meta, LR)
            vopt.zero_grad()
            for q, g in zip(vnet.parameters(), torch.autograd.grad(meta, list(vnet.parameters()))):
                q.grad = g
            vopt.step()
            with torch.no_grad():
                w = step_weights(vnet(ce.detach()[:, None])[:, 0], True)
            opt.zero_grad()
            (w * ce).mean().backward()
            opt.step()

        return dict(
            plain=plain,
            l2rw_ours=l2rw_ours,
            l2rw_reference=l2rw_reference,
            mwnet_ours=mwnet_ours,
            mwnet_reference=mwnet_reference,
        )[name]


def time_variants(bench: Bench, warmup: int, repeats: int) -> dict[str, float]:
    return round_robin_medians(
        {name: bench.variant(name) for name in VARIANTS}, warmup=warmup, repeats=repeats, cuda=bench.x.is_cuda
    )


def memory_of(args: argparse.Namespace, model_name: str, name: str, batch: int, meta_batch: int) -> float | None:
    """MiB: CUDA peak allocated during one step (in process), or CPU peak RSS growth (fresh subprocess)."""
    device = torch.device(args.device)
    if device.type == "cuda":
        fn = Bench(model_name, batch, meta_batch, device).variant(name)
        fn()
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        fn()
        torch.cuda.synchronize()
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    child = ["--memory-child", name, "--models", model_name, "--batch", str(batch), "--meta-batch", str(meta_batch)]
    return child_peak_mib("benchmarks.reweighting", [*child, "--threads", str(args.threads)], name)


def memory_child(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    fn = Bench(args.models[0], args.batch, args.meta_batch, torch.device("cpu")).variant(args.memory_child)
    print_peak(peak_rss_growth_mib(fn))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--batch", type=int, default=None, help="train batch (default: 100 small CNN, 32 ResNet18)")
    parser.add_argument("--meta-batch", type=int, default=None, help="meta batch (default: 100 / 64)")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (default: 15 / 5)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_child(args)
        return
    torch.set_num_threads(args.threads)
    for model_name in args.models:
        small = model_name == "smallcnn"
        batch = args.batch or (100 if small else 32)
        meta_batch = args.meta_batch or (100 if small else 64)
        repeats = args.repeats or (15 if small else 5)
        times = time_variants(Bench(model_name, batch, meta_batch, torch.device(args.device)), args.warmup, repeats)
        memory = {} if args.no_memory else {n: memory_of(args, model_name, n, batch, meta_batch) for n in VARIANTS}
        print(
            f"\n## {model_name}: batch {batch}, meta batch {meta_batch}, {args.device}, "
            f"{torch.get_num_threads()} thread(s), median of {repeats}\n"
        )
        unit = "peak CUDA MiB" if args.device.startswith("cuda") else "peak RSS growth MiB"
        rows = [
            [n, f"{t * 1e3:.1f}", f"{t / times['plain']:.2f}", "-" if memory.get(n) is None else f"{memory[n]:.1f}"]
            for n, t in times.items()
        ]
        print(tabulate(rows, headers=["variant", "median ms", "x plain", unit]))
        ratios = [
            [f"{m}: reference / ours (time)", f"{times[m + '_reference'] / times[m + '_ours']:.2f}"]
            for m in ("l2rw", "mwnet")
        ]
        for m in ("l2rw", "mwnet"):
            if memory.get(m + "_ours") and memory.get(m + "_reference"):
                ratios.append(
                    [f"{m}: reference / ours (memory)", f"{memory[m + '_reference'] / memory[m + '_ours']:.2f}"]
                )
        print()
        print(tabulate(ratios, headers=["ratio", "measured"]))


if __name__ == "__main__":
    main()
