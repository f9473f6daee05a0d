"""Relative error of the label meta-gradient in bf16 autocast (and fp32) against float64, per model.

    .venv/bin/python -m benchmarks.bf16_precision --device cpu --models resnet18 wrn28_10 --batch 8
    .venv/bin/python -m benchmarks.bf16_precision --device cuda     # batch 128 / meta 256, channels_last

Reports ||g - g64|| / ||g64||, the cosine, and the share of rows whose favoured class (argmin) agrees.
"""

from __future__ import annotations

import argparse
import copy

import torch
import torch.nn.functional as F
from tabulate import tabulate

from repro.meta import label_meta_gradient
from repro.models import build_model
from repro.training.hardware import Hardware


def compare(name: str, device: str, batch: int, meta_batch: int, classes: int) -> list:
    torch.manual_seed(0)
    model = build_model(name, num_classes=classes, in_channels=3, image_size=32).to(device)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(batch, 3, 32, 32, generator=gen).to(device)
    xm = torch.randn(meta_batch, 3, 32, 32, generator=gen).to(device)
    ym = torch.randint(0, classes, (meta_batch,), generator=gen).to(device)
    p = torch.softmax(torch.randn(batch, classes, generator=gen), 1).to(device)
    exact = label_meta_gradient(
        copy.deepcopy(model).double(), x.double(), p.double(), xm.double(), ym, lr=0.1, weight_decay=5e-4
    ).double()
    rows = []
    for precision in ("fp32", "bf16"):
        hw = Hardware(torch.device(device), precision=precision, channels_last=device == "cuda")
        m = hw.prepare_model(copy.deepcopy(model))
        with hw.autocast():
            g = label_meta_gradient(
                m, hw.prepare_batch(x), p, hw.prepare_batch(xm), ym, lr=0.1, weight_decay=5e-4
            ).double()
        rel = float((g - exact).norm() / exact.norm())
        cos = float(F.cosine_similarity(g.flatten(), exact.flatten(), dim=0))
        agree = float((g.argmin(1) == exact.argmin(1)).double().mean())
        rows.append([name, precision, f"{rel:.2e}", f"{cos:.5f}", f"{agree:.3f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--models", nargs="+", default=["resnet18", "wrn28_10"])
    parser.add_argument("--batch", type=int, default=None, help="default: 8 on the CPU, 128 on CUDA")
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    batch = args.batch or (128 if args.device == "cuda" else 8)
    rows = [r for name in args.models for r in compare(name, args.device, batch, 2 * batch, args.classes)]
    print(
        f"label meta-gradient vs float64 on {args.device}, batch {batch} / meta {2 * batch}, torch {torch.__version__}"
    )
    print(
        tabulate(rows, headers=["model", "precision", "rel. error", "cosine", "argmin agrees"], disable_numparse=True)
    )


if __name__ == "__main__":
    main()
