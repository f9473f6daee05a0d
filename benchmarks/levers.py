"""The hardware levers on our meta step, side by side in one process (`python -m benchmarks.meta_step --levers`).

Rows are models; columns the plain step, our meta step in fp32, then with channels_last, + bf16 autocast, + the
compiled JVP, and the ratio of the fastest meta step to the floor (train fwd+bwd + meta fwd+bwd + JVP, fp32,
measured in the same process). Variants run round-robin, medians after warm-up; on CUDA every timed call ends
with a synchronize, so the times are the GPU's.
"""

from __future__ import annotations

import copy
from typing import Callable

import torch
import torch.nn.functional as F
from tabulate import tabulate

from benchmarks.roundrobin import round_robin_medians
from repro.labels import InstanceLabels
from repro.losses import soft_cross_entropy
from repro.meta import Batch, LookAhead, MetaBatch, meta_label_step
from repro.meta.virtual import log_prob_jvp, trainable_parameters
from repro.training.hardware import Hardware

LR, WEIGHT_DECAY = 0.01, 5e-4
# column -> hardware settings of our meta step
LEVERS = {
    "ours fp32": dict(channels_last=False, precision="fp32", compile_jvp=False),
    "+channels_last": dict(channels_last=True, precision="fp32", compile_jvp=False),
    "+bf16": dict(channels_last=True, precision="bf16", compile_jvp=False),
    "+compiled JVP": dict(channels_last=True, precision="bf16", compile_jvp=True),
}


def _closures(model0, shape, classes, batch, meta_batch, device, levers) -> dict[str, Callable[[], None]]:
    gen = torch.Generator().manual_seed(1)
    x0 = torch.randn(batch, *shape, generator=gen)
    xm0 = torch.randn(meta_batch, *shape, generator=gen)
    y = torch.randint(0, classes, (batch,), generator=gen).to(device)
    ym = torch.randint(0, classes, (meta_batch,), generator=gen).to(device)
    idx = torch.arange(batch, device=device)
    out: dict[str, Callable[[], None]] = {}

    def setup(settings):
        hw = Hardware(torch.device(device), **settings)
        model = hw.prepare_model(copy.deepcopy(model0))
        opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9, weight_decay=WEIGHT_DECAY)
        return hw, model, opt, hw.prepare_batch(x0), hw.prepare_batch(xm0)

    hw, model, opt, x, xm = setup(LEVERS["ours fp32"])

    def plain():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    out["plain"] = plain
    p_fixed = torch.softmax(torch.randn(batch, classes, generator=gen), 1).to(device)
    params = trainable_parameters(model)
    tangents = [torch.randn_like(t) * 1e-3 for t in params.values()]
    out["floor: train f+b"] = lambda: soft_cross_entropy(model(x), p_fixed).backward()
    out["floor: meta f+b"] = lambda: F.cross_entropy(model(xm), ym).backward()
    out["floor: JVP"] = lambda: log_prob_jvp(model, params, x, tangents)
    for name in levers:
        hw_l, model_l, opt_l, x_l, xm_l = setup(LEVERS[name])
        labels = InstanceLabels(batch, classes, y, init_target_prob=0.7, lr=10.0).to(device)

        def ours(hw_l=hw_l, model_l=model_l, opt_l=opt_l, x_l=x_l, xm_l=xm_l, labels=labels):
            opt_l.zero_grad(set_to_none=True)
            with hw_l.autocast():
                step = LookAhead(LR, WEIGHT_DECAY, compile_jvp=hw_l.compile_jvp)
                logits, p = meta_label_step(model_l, labels, Batch(x_l, y, idx), MetaBatch(xm_l, ym), step)
                loss = soft_cross_entropy(logits, p)
            loss.backward()
            opt_l.step()

        out[name] = ours
    return out


def time_levers(
    model0, shape, classes, *, batch, meta_batch, device, warmup, repeats, levers=tuple(LEVERS)
) -> dict[str, float]:
    """Median seconds per call of every column, round-robin."""
    closures = _closures(model0, shape, classes, batch, meta_batch, device, levers)
    return round_robin_medians(closures, warmup=warmup, repeats=repeats, cuda=device == "cuda")


def lever_table(results: dict[str, dict[str, float]], device_name: str, batch_note: str) -> str:
    columns = ["plain", *LEVERS]
    rows = []
    for model, t in results.items():
        floor = t["floor: train f+b"] + t["floor: meta f+b"] + t["floor: JVP"]
        metas = [t[c] for c in LEVERS if c in t]
        rows.append(
            [
                model,
                *(f"{t[c] * 1e3:.1f}" if c in t else "-" for c in columns),
                f"{floor * 1e3:.1f}",
                f"{min(metas) / floor:.2f}",
            ]
        )
    head = f"## ms per step on {device_name} ({batch_note}); same process, round-robin, medians\n\n"
    return head + tabulate(rows, headers=["model", *columns, "floor", "best meta / floor"], disable_numparse=True)
