"""A table survives random kills: a digits sweep (a plain row and a learned row: two folds and their replay final)
trained here and on SLURM, packed (`--runs-per-gpu 2`) and not, logging online to the W&B stand-in on loopback
(testing_support/wandb_endpoint.py: nothing leaves the machine), is disturbed by N faults drawn at random, then
re-run until done and checked against an undisturbed reference of the same runs:

- every run finished exactly once (one session ended done, no retrain as a new attempt);
- its epochs neither repeated nor missing (metrics.jsonl, and the summary's count);
- one writer (no process lost a run's lock to another; no two sessions of a run overlap);
- no orphan process (every process the benchmark started carries CHAOS_TAG; none may outlive the scenario) and no
  stale lock or temp file;
- W&B's record complete after `repro wandb sync` (each epoch's row once, the final summary);
- every final metric, and every epoch's metrics, equal to the undisturbed run's, bit for bit (the runs are
  deterministic on one CPU kind with one torch thread each, which every executor here gives them);
- after each fault that ended a run's process, `repro sweep status` stopped calling it running within 20 s.

The faults (benchmarks/chaos_faults.py; each run hit at a known point, its process frozen past a drawn epoch):
a run's process killed by a drawn signal (SIGKILL, SIGSEGV, SIGABRT, SIGHUP, SIGUSR1; SIGTERM too, but never to a
one-run SLURM job's process, where SIGTERM is the preemption signal, answered by a 120 s wait for a requeue), killed
by SIGKILL a few milliseconds later wherever it then is, ended by the kernel's out-of-memory killer (where root may
make memory cgroups), its whole SLURM job cancelled (`scancel`, `scancel --signal=KILL`), a packed job's own process
killed, the `repro sweep` command killed, the W&B server killed or hung for 5-20 s, the node's slurmd killed and
restarted.

    .venv/bin/python -m benchmarks.chaos --faults 24 --out /tmp/chaos          # starts its own SLURM cluster
    .venv/bin/python -m benchmarks.chaos --faults 3 --scenarios local-packed --no-wandb --out /tmp/chaos-quick

Without SLURM_CONF it starts the throw-away one-node cluster of slurm/cluster.sh in OUT/cluster (root) and stops it
at the end. It writes OUT/report.json and prints the report as Markdown; it exits 1 when any check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

from benchmarks import chaos_faults as faults
from benchmarks.chaos_scenario import Runner, Scenario, Setting
from repro.checkout import CHECKOUT_ROOT
from repro.sweep.spec.model import Scale
from testing_support.wandb_endpoint import FAKE_API_KEY

NAME = "chaos"
SWEEP = """\
    name: chaos
    metric: final_test_acc
    seeds: [0]
    common: [split=full, split.folds=2, progress=none]
    columns:
      Digits/SmallCNN: [data=digits, model=smallcnn]
    rows:
      Baseline: [method=baseline]
      Ours (Class):
        learn: [method=class_labels]
"""
# --small: the plain row alone, two seeds (the test suite's short version)
SMALL = SWEEP.replace("seeds: [0]", "seeds: [0, 1]").split("      Ours (Class):")[0]
HERE = ("kill-run", "loose-kill", "kill-command", "kill-wandb")
ON_SLURM = (*HERE, "kill-job", "kill-slurmd")
SCENARIOS = {
    "local": Scenario("local", "local", False, HERE),
    "local-packed": Scenario("local-packed", "local", True, HERE),
    "slurm": Scenario("slurm", "slurm", False, ON_SLURM),
    "slurm-packed": Scenario("slurm-packed", "slurm", True, (*ON_SLURM, "kill-job-process")),
}


def environment(out: Path, wandb_url: str | None) -> dict[str, str]:
    """The commands' environment: one torch thread, W&B's folders under OUT, online to the stand-in (or off)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "WANDB_SILENT": "true", "WANDB_API_KEY": FAKE_API_KEY}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CHECKOUT_ROOT), os.environ.get("PYTHONPATH", "")]))
    for var in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_CONFIG_DIR", "WANDB_ARTIFACT_DIR"):
        env[var] = str(out / "wandb-dirs" / var.lower())
    env.pop("WANDB_MODE", None)
    if wandb_url:
        env["WANDB_BASE_URL"] = wandb_url
    return env


def train_reference(setting: Setting) -> Path:
    """The same runs, undisturbed: here, one at a time, one torch thread, W&B off (not part of a run's id)."""
    reference = setting.out / "reference"
    s = setting.scale
    cmd = [
        sys.executable,
        "-m",
        "repro.cli",
        "sweep",
        str(setting.sweep),
        "--output-root",
        str(reference),
        "--jobs",
        "1",
        "--epochs",
        str(s.epochs),
        "--subset",
        str(s.subset),
        "--test-subset",
        str(s.test_subset),
        "tracker=none",
    ]
    cpu = sorted(os.sched_getaffinity(0))[:1]
    subprocess.run(
        cmd, env=setting.env, check=True, capture_output=True, preexec_fn=lambda: os.sched_setaffinity(0, cpu)
    )
    return reference


def start_cluster(directory: Path) -> tuple[Path, str]:
    subprocess.run(["bash", str(CHECKOUT_ROOT / "slurm" / "cluster.sh"), "start", str(directory)], check=True)
    facts = dict(
        line.split("=", 1) for line in (directory / "etc" / "cluster.env").read_text().splitlines() if "=" in line
    )
    return directory / "etc" / "slurm.conf", facts["NODE"]


def render(report: dict) -> str:
    """The report as docs/reliability.md shows it."""
    lines = [f"`{report['command']}` ({report['date']}; load {report['load'][0]:.1f} -> {report['load'][1]:.1f}):", ""]
    lines += [
        "| scenario | fault | variant | run hit (its epoch; its process, when) "
        "| status no longer `running` after (from the process's end) |",
        "|---|---|---|---|---|",
    ]
    for name, scenario in report["scenarios"].items():
        for r in scenario["faults"]:
            hit = (
                f"{r['run'][-10:]} ({r['epoch']}; pid {r['pid']} at {r['at_s']} s)"
                if r.get("run")
                else ("the command" if r["landed"] else "none left")
            )
            if r.get("missed"):
                hit += f", MISSED: {r['missed']}"
            if r.get("process_ended") is False:
                hit += ", its process NOT ended"
            elif (r.get("process_ended_after_s") or 0) >= 1:  # a clean stop (SIGTERM), or SLURM's KillWait
                hit += f", its process ended {r['process_ended_after_s']} s later"
            took = (
                ""
                if not r.get("status_checked")
                else (f"{r['status_within_s']} s" if r.get("status_within_s") is not None else "NOT within 20 s")
            )
            lines.append(
                f"| {name} | {r['fault']} | {r.get('variant') or r.get('error', '')} | {hit} | "
                f"{took or r.get('status_seen', '')} |"
            )
    lines += ["", "| scenario | faults landed | the command's exit statuses | " + " | ".join(report["checks"]) + " |"]
    lines += ["|---" * (3 + len(report["checks"])) + "|"]
    for name, scenario in report["scenarios"].items():
        held = [
            "held" if not scenario["checks"][c] else f"FAILED ({len(scenario['checks'][c])})" for c in report["checks"]
        ]
        landed = sum(r["landed"] for r in scenario["faults"])
        lines.append(
            f"| {name} | {landed} of {len(scenario['faults'])} | "
            f"{' '.join(map(str, scenario['exits']))} | {' | '.join(held)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="a fresh directory for the runs and the report")
    parser.add_argument("--faults", type=int, default=24, help="faults in all, dealt evenly to the scenarios")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"a comma list of {', '.join(SCENARIOS)}")
    parser.add_argument("--kinds", help="only these fault kinds (a comma list), where a scenario has them")
    parser.add_argument("--seed", type=int, default=0, help="draws the faults, their points and their variants")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--subset", type=int, default=400)
    parser.add_argument("--test-subset", type=int, default=200)
    parser.add_argument("--no-wandb", action="store_true", help="W&B off: no stand-in, no W&B faults or checks")
    parser.add_argument("--small", action="store_true", help="the plain row alone, two seeds (no folds, no final)")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    wanted = [SCENARIOS[name] for name in args.scenarios.split(",")]
    only = set(args.kinds.split(",")) if args.kinds else None
    server = None if args.no_wandb else faults.WandbServer()
    sweep = out / f"{NAME}.yaml"
    sweep.write_text(textwrap.dedent(SMALL if args.small else SWEEP))
    setting = Setting(
        sweep,
        Scale(epochs=args.epochs, subset=args.subset, test_subset=args.test_subset),
        out,
        environment(out, server.url if server else None),
        CHECKOUT_ROOT / "slurm" / "profiles" / "local.yaml",
        server,
    )
    own_cluster = any(s.executor == "slurm" for s in wanted) and "SLURM_CONF" not in os.environ
    report: dict = {
        "command": "benchmarks/chaos.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": str(date.today()),
        "load": [os.getloadavg()[0]],
        "scenarios": {},
    }
    try:
        if own_cluster:
            conf, setting.node = start_cluster(out / "cluster")
            os.environ["SLURM_CONF"] = setting.env["SLURM_CONF"] = str(conf)
            setting.cluster_dir = out / "cluster"
        reference = train_reference(setting)
        rng = random.Random(args.seed)
        for i, scenario in enumerate(wanted):
            kinds = tuple(k for k in scenario.kinds if (only is None or k in only) and (server or k != "kill-wandb"))
            kinds += ("oom-run",) if faults.oom_killer_available() and (only is None or "oom-run" in only) else ()
            scenario = Scenario(scenario.name, scenario.executor, scenario.packed, kinds)
            n = args.faults // len(wanted) + (i < args.faults % len(wanted))
            runner = Runner(scenario, setting, rng)
            started = time.monotonic()
            runner.run(n)
            checks = runner.check(reference, args.epochs)
            report["scenarios"][scenario.name] = {
                "faults": runner.records,
                "exits": runner.exits,
                "checks": checks,
                "seconds": round(time.monotonic() - started),
            }
            report["checks"] = list(checks)
    finally:
        if server is not None:
            server.close()
        if own_cluster:
            subprocess.run(
                ["bash", str(CHECKOUT_ROOT / "slurm" / "cluster.sh"), "stop", str(out / "cluster")], check=False
            )
    report["load"].append(os.getloadavg()[0])
    (out / "report.json").write_text(json.dumps(report, indent=2))
    print(render(report))
    failed = any(problems for s in report["scenarios"].values() for problems in s["checks"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
