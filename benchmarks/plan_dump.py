"""Every sweep file's planned runs, dumped one JSON line per run, so that a refactor of the sweep can be shown to plan
exactly what it planned before: run id, order, row, column, seed, stage, fold, overrides, dependencies, a digest of
the resolved config, and what the run's stage decided of it (its label, the run directory it trains, its cost
share, whether it trains). Each file of sweeps/ and sweeps/*/ is expanded at the paper's scale, with --epochs 1, and
with successive halving (at the paper's epochs and at 6).

    .venv/bin/python -m benchmarks.plan_dump /tmp/dump-after
    git stash / git worktree at the older commit: the same command into /tmp/dump-before (its fields named as they
    were there), then  diff -r /tmp/dump-before /tmp/dump-after

Nothing is written but the dump (the runs are planned into ROOT, which is never created)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from repro.checkout import CHECKOUT_ROOT
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.spec.model import PlannedRun, Scale
from repro.sweep.sweep_file import load_sweep

ROOT = "/tmp/plan-dump-root"  # the output root in the runs' configs, never created: nothing is written there
SCALES = {
    "paper": None,
    "epochs1": Scale(epochs=1),
    "halving": Scale(stage_options={"tune_strategy": "halving"}),
    "epochs6_halving": Scale(epochs=6, stage_options={"tune_strategy": "halving"}),
}


def line(i: int, run: PlannedRun) -> str:
    config = hashlib.sha256(json.dumps(run.config, sort_keys=True, default=str).encode()).hexdigest()[:16]
    fields = {
        "i": i,
        "run_id": run.run_id,
        "row": run.row,
        "column": run.column,
        "seed": run.seed,
        "stage": run.stage,
        "fold": run.fold,
        "overrides": list(run.overrides),
        "depends_on": list(run.depends_on),
        "config": config,
        "label": run.label,
        "dir": run.run_dir_id,
        "share": round(run.share, 12),
        "trains": run.trains,
    }
    return json.dumps(fields)


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("plan-dump")
    out.mkdir(parents=True, exist_ok=True)
    sweeps = CHECKOUT_ROOT / "sweeps"
    for path in sorted(sweeps.glob("*.yaml")) + sorted(sweeps.glob("*/*.yaml")):
        spec = load_sweep(path)
        for name, scale in SCALES.items():
            try:
                lines = [line(i, r) for i, r in enumerate(expand_sweep(spec, output_root=ROOT, scale=scale))]
            except Exception as exc:  # a file that does not plan at this scale: its error is what is compared
                lines = [f"ERROR {type(exc).__name__}: {exc}"]
            relative = path.relative_to(CHECKOUT_ROOT).as_posix().replace("/", "__")
            (out / f"{relative}.{name}.jsonl").write_text("\n".join(lines) + "\n")
            print(f"{path.relative_to(CHECKOUT_ROOT)} {name}: {len(lines)} runs", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
