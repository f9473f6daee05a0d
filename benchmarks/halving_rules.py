"""Successive halving's rules against the full grid, replayed offline from the grid's own tuning runs.

    .venv/bin/python -m benchmarks.halving_rules --root /tmp/halving_rules            # trains, then reports
    .venv/bin/python -m benchmarks.halving_rules --root /tmp/halving_rules --report   # re-reports a trained root

A run stopped at a rung is exactly the first epochs of the grid's full-length run (same config, run id and lr
schedule), so the script trains only the grid's tuning runs (and the teachers its students need) to the end, once,
and then replays each rule from their metrics.jsonl with the project's own race (repro/sweep/stages/tune/halving.py
`climb`, rungs from halving_runs.py `stage_rungs`) and the tuned run's choice among the finalists (tuning.py
`choose`: mean `select` at full length over the tuning seeds, ties to the grid's first point).

It writes four small sweep files into --root (digits on a 600-sample subset, 12 epochs clean / 20 at 40% uniform
noise; MNIST-1D, 15 / 20 epochs, as sweeps/mnist1d/): per file an instance-labels grid (label_lr 6 values x
init_target_prob {0.5, 0.9}: 12 points), a label-smoothing epsilon grid {0, 0.2, 0.4, 0.6, 0.8} and, on digits, a
tiny-CNN student's distillation temperature {0, 1, 2, 3, 4, 6} (its small-CNN teacher: the file's one-hot row). The
noisy files tune on the clean meta set (`where: []`), the clean ones on fold 0's held-out 20%. One torch thread, one
run at a time, no W&B: about 20 minutes of one CPU thread with one tuning seed (`--seeds 2` doubles it).

Per tuned cell and rule (grid; halving with the old defaults: eta 3, min_fraction 0, one finalist; the new defaults:
eta 3, min_fraction 0.25, three finalists; and eta 2 with the new floor, two finalists) it reports the rungs, the
point ahead at the first rung, the winner, whether it is the grid's, its full-length test accuracy (mean
final_test_acc over the tuning seeds) and the difference to the grid winner's, and the epochs the rule trains (per
rung: its survivors x the epochs since the previous rung, times the seeds) as a share of the grid's; then per rule
the summary over the cells.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from tabulate import tabulate

from repro.runs.rundir import RunDir
from repro.sweep.stages.tune import Ladder, cell_tune, choose, climb, point_text, run_epochs, stage_rungs

QUIET = ("progress=none", "tracker=none")  # training only: no progress lines, no W&B runs (not in the run ids)
# rule name -> halving's settings (None: the grid)
RULES: dict[str, dict[str, Any] | None] = {
    "grid": None,
    "old (eta 3, 1 finalist)": {"eta": 3, "min_fraction": 0.0, "finalists": 1},
    "new (eta 3)": {"eta": 3, "min_fraction": 0.25, "finalists": 3},
    "new eta 2": {"eta": 2, "min_fraction": 0.25, "finalists": 2},
}

_DIGITS = "data=digits, model=smallcnn, data.subset=600"
_MNIST1D = "data=mnist1d, model=cnn1d"
_NOISY = "split=noisy, split.meta_fraction=0.1, noise=uniform, noise.fraction=0.4"
# (file, common overrides, label_lr values, the distillation rows?)
SWEEPS = (
    ("digits-clean", f"{_DIGITS}, split=full, optim.epochs=12", "[3, 30, 100, 300, 1000, 3000]", True),
    ("digits-noisy", f"{_DIGITS}, {_NOISY}, optim.epochs=20", "[3, 30, 100, 300, 1000, 3000]", True),
    ("mnist1d-clean", f"{_MNIST1D}, split=full, optim.epochs=15", "[30, 100, 300, 1000, 2000, 5000]", False),
    ("mnist1d-noisy", f"{_MNIST1D}, {_NOISY}, optim.epochs=20", "[30, 100, 300, 1000, 2000, 5000]", False),
)


def sweep_text(name: str, common: str, label_lrs: str, distil: bool, seeds: int) -> str:
    """A sweep file whose tuned cells are the measurement (its reported runs are never trained here)."""
    noisy = "noisy" in name
    where = "where: [], " if noisy else ""
    tune = f"{where}seeds: {list(range(seeds))}"
    instance = "overrides" if noisy else "learn"  # clean: the fold protocol's row, tuned on fold 0's held-out 20%
    text = f"""name: rules-{name}
table: 99
title: "Successive halving's rules against the grid ({name})."
metric: final_test_acc
seeds: [0]
common: [{common}]
columns:
  {name}: []
rows:
  Instance labels:
    {instance}: [method=instance_labels{", method.curriculum=entropy" if noisy else ""}]
    tune: {{grid: {{method.label_lr: {label_lrs}, method.init_target_prob: [0.5, 0.9]}}, {tune}}}
  Label smoothing:
    overrides: [method=label_smoothing]
    tune: {{grid: {{method.epsilon: [0.0, 0.2, 0.4, 0.6, 0.8]}}, {tune}}}
"""
    if distil:
        text += f"""  One-hot: [method=baseline]
  Student:
    overrides: [method=distillation, model=tinycnn]
    teacher: {{row: One-hot}}
    tune: {{grid: {{method.temperature: [0.0, 1.0, 2.0, 3.0, 4.0, 6.0]}}, {tune}}}
"""
    return text


def write_sweeps(root: Path, seeds: int) -> list[Path]:
    from repro.runs.io import atomic_write_text

    paths = []
    for name, common, label_lrs, distil in SWEEPS:
        path = root / "sweeps" / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, sweep_text(name, common, label_lrs, distil, seeds))
        paths.append(path)
    return paths


def plans(root: Path) -> list:
    from repro.sweep.sweep_file import load_sweep
    from repro.sweep.sweep_plan import plan_sweep

    return [
        plan_sweep(load_sweep(p), output_root=root, extra_overrides=QUIET)
        for p in sorted((root / "sweeps").glob("*.yaml"))
    ]


def train(root: Path) -> None:
    """Train every plan's runs but its reported ones (single / final): the tuning runs and the teachers they need."""
    import torch

    from repro.sweep.executors.local import run_planned_runs
    from repro.sweep.sweep_folder import sweep_dir, write_planned_configs

    torch.set_num_threads(1)
    todo, configs, done = {}, {}, set()
    for plan in plans(root):
        keep = {r.run_id for r in plan.to_submit if r.stage not in ("single", "final", "fold")}
        stack = list(keep)
        while stack:  # and what they need: a student's teacher may be another row's reported run
            for dep in plan.unique[stack.pop()].depends_on:
                if dep not in keep and dep not in plan.done:
                    keep.add(dep)
                    stack.append(dep)
        needed = [r for r in plan.to_submit if r.run_id in keep]
        configs = {**write_planned_configs(sweep_dir(root, plan.spec.name), needed), **configs}
        todo.update({r.run_id: r for r in needed})
        done |= set(plan.done)
    started = time.perf_counter()
    ran, failed = run_planned_runs(list(todo.values()), done=done, jobs=1, configs=configs, report=print)
    print(f"trained {len(ran)} runs in {time.perf_counter() - started:.0f} s; {len(failed)} failed: {failed}")


# ------------------------------------------------------------------------------------------------ the replay


@dataclass(frozen=True)
class Outcome:
    """One rule's decision on one cell."""

    rungs: tuple[int, ...]  # the epochs it ranks at, ending at the full length
    survivors: tuple[int, ...]  # points that train to each rung
    winner: tuple[Any, ...]
    leader: tuple[Any, ...] | None  # the point ahead at the first rung (None: the grid, no rung before the end)
    test: float  # the winner's mean final_test_acc at full length over the tuning seeds
    epochs: int  # epochs it trains, all seeds


def summaries(runs_root: Path, ids: Sequence[str], key: str) -> float:
    return statistics.fmean(float((RunDir(runs_root / rid).read_summary() or {})[key]) for rid in ids)


def replay(
    entries: Sequence[Mapping[str, Any]],
    *,
    select: str,
    rungs: tuple[int, ...],
    rule: Mapping[str, Any] | None,
    runs_root: Path,
) -> Outcome:
    """A rule's race over a cell's finished grid runs (`entries`: the tuned run's tune.runs, [{run, values}] in grid
    order; `rungs`: the rule's epochs, (total,) for the grid) and the tuned run's choice among its finalists."""
    ladder = Ladder.of(entries, select=select, node={"eta": 3, "epochs": rungs, **(rule or {})})
    race = climb(ladder, runs_root)
    assert race.decided, race.waiting
    racing = [race.racing(k) or () for k in range(len(rungs))]
    final = racing[-1]
    scored = [(ladder.points[p], summaries(runs_root, ladder.runs[p], select), list(ladder.runs[p])) for p in final]
    winner = choose(scored)
    seeds = len(ladder.runs[0])
    epochs = sum(len(r) * (e - (rungs[k - 1] if k else 0)) * seeds for k, (r, e) in enumerate(zip(racing, rungs)))
    test = summaries(runs_root, ladder.runs[ladder.points.index(winner)], "final_test_acc")
    leader = ladder.points[race.rungs[0].ranked[0][0]] if race.rungs else None
    return Outcome(rungs, tuple(map(len, racing)), winner, leader, test, epochs)


def rule_rungs(tune, tuning_config: dict, points: int, rule: Mapping[str, Any] | None) -> tuple[int, ...]:
    """The rule's rungs for a stage, from the planner's own `stage_rungs` (the grid: the full length only)."""
    if rule is None:
        return (run_epochs(tuning_config),)
    return stage_rungs(replace(tune, strategy="halving", min_epochs=1, **rule), tuning_config, points)


def cells(root: Path) -> list[dict]:
    """Per tuned cell: its name, its tuned key names and each rule's Outcome."""
    out = []
    for plan in plans(root):
        by_id = {r.run_id: r for r in plan.runs}
        for run in plan.runs:
            tune = run.config.get("tune") or {}
            if run.stage not in ("single", "final") or not tune.get("keys") or run.seed != plan.spec.seeds[0]:
                continue
            entries = list(tune["runs"])
            if not {str(e["run"]) for e in entries} <= plan.done:
                print(f"not trained yet: {run.column} / {run.row} (left out)")
                continue
            spec_tune = cell_tune(plan.spec, run.row, run.column)
            points = len({tuple(e["values"]) for e in entries})
            first = by_id[str(entries[0]["run"])].config
            outcomes = {
                name: replay(
                    entries,
                    select=str(tune["select"]),
                    rungs=rule_rungs(spec_tune, first, points, rule),
                    rule=rule,
                    runs_root=root / "runs",
                )
                for name, rule in RULES.items()
            }
            out.append({"cell": f"{run.column} / {run.row}", "keys": list(tune["keys"]), "outcomes": outcomes})
    return out


def render(found: list[dict]) -> str:
    body = []
    for cell in found:
        grid = cell["outcomes"]["grid"]
        for name, o in cell["outcomes"].items():
            body.append(
                [
                    cell["cell"] if name == "grid" else "",
                    name,
                    ", ".join(map(str, o.rungs)),
                    " -> ".join(map(str, o.survivors)),
                    "" if o.leader is None else point_text(cell["keys"], o.leader),
                    point_text(cell["keys"], o.winner) if name == "grid" or o.winner != grid.winner else "same",
                    f"{100 * o.test:.1f}",
                    "" if name == "grid" else f"{100 * (o.test - grid.test):+.1f}",
                    f"{o.epochs} ({o.epochs / grid.epochs:.0%})",
                ]
            )
    headers = ["cell", "rule", "rungs (epochs)", "points", "first rung's leader", "winner", "test %", "vs grid"]
    headers.append("epochs (share)")
    lines = [tabulate(body, headers=headers, tablefmt="github"), ""]
    for name in list(RULES)[1:]:
        costs = [100 * (c["outcomes"]["grid"].test - c["outcomes"][name].test) for c in found]
        same = sum(c["outcomes"][name].winner == c["outcomes"]["grid"].winner for c in found)
        share = sum(c["outcomes"][name].epochs for c in found) / sum(c["outcomes"]["grid"].epochs for c in found)
        lines.append(
            f"- {name}: same winner in {same} of {len(found)} cells; test accuracy lost against the grid's winner: "
            f"mean {statistics.fmean(costs):.2f} points, worst {max(costs):.1f}; epochs {share:.0%} of the grid's"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, required=True, help="the output root (its sweeps/ holds the files)")
    parser.add_argument("--seeds", type=int, default=1, help="tuning seeds per cell (default 1)")
    parser.add_argument("--report", action="store_true", help="only the report of a root already trained")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if not args.report:
        write_sweeps(root, args.seeds)
        train(root)
    print(render(cells(root)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
