"""How much L2RW's weights depend on its authors' meta cost (the L2 weight-decay term, `method.meta_cost_weight_decay`):
the relative L2 difference between the batch weights with `L_meta + (wd / 2) ||theta||^2` and with `L_meta` alone,
on a fresh small CNN on noisy digits and again after the network has fit the meta batch (docs/methods/l2rw.md).

    .venv/bin/python -m benchmarks.l2rw_meta_cost
"""

from __future__ import annotations

import tempfile

import torch
import torch.nn.functional as F

from repro.config import load_config, to_container
from repro.meta import LookAhead
from repro.methods.l2rw import l2rw_step
from repro.runs.rundir import RunDir
from repro.train import build_experiment


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as root:
        cfg = load_config(
            [
                "method=l2rw",
                "split=noisy",
                "split.meta_fraction=0.1",
                "noise=uniform",
                "noise.fraction=0.4",
                "tracker=none",
                "progress=none",
                "device=cpu",
                f"output_root={root}",
            ]
        )
        exp = build_experiment(cfg, RunDir.for_config(to_container(cfg)))
    exp.set_epoch(0)
    x, y, _ = next(iter(exp.batches.train))
    meta = exp.batches.next_meta()
    wd, classes = exp.optim.weight_decay, exp.data.num_classes

    def difference() -> float:
        lr = exp.optim.lr
        _, theirs = l2rw_step(exp.model, x, y, meta, LookAhead(lr, meta_cost_decay=wd), classes)
        _, plain = l2rw_step(exp.model, x, y, meta, LookAhead(lr), classes)
        return float((theirs - plain).norm() / plain.norm())

    print(f"weight decay {wd}, batch {len(y)}, meta batch {len(meta.y)}")
    print(f"fresh network: relative difference of the weights {difference():.2e}")
    optimizer = torch.optim.SGD(exp.model.parameters(), lr=0.05, momentum=0.9)
    for _ in range(300):
        optimizer.zero_grad()
        loss = F.cross_entropy(exp.model(meta.x), meta.y)
        loss.backward()
        optimizer.step()
    print(f"meta batch fit (its loss {loss.item():.1e}): relative difference of the weights {difference():.2e}")


if __name__ == "__main__":
    main()
