"""W&B's budget at array scale: a local sweep of tiny digits runs (`repro sweep --jobs 2`, each run its own process)
logging online to the stand-in W&B server (testing_support/wandb_endpoint.py, on loopback: nothing leaves
the machine), which stops answering once a given number of runs are done. It reports:

- the largest W&B wait of any run (`seconds_waited` in wandb_status.json, every call counted) against the budget
  (`tracker.timeouts.total`), and each run's time beyond its training (provenance start to end minus the epochs);
- how the runs ended on W&B (online, or offline after which call);
- the W&B service processes (`wandb-core`) of the array's runs still alive once the sweep ended (watched by pid
  all along: a service W&B starts carries `--pid <its run's process>`);
- `repro wandb sync` once the server answers again: the runs it synced, what the stand-in then holds of them, and
  that a second sync sends nothing.

    .venv/bin/python -m benchmarks.wandb_array --runs 50 --silent-after 20 --out /tmp/wandb-array

A benchmark, not a test: with default bounds, 50 runs take about 10-15 minutes on the 2-core development machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path

from benchmarks.slurm_load import spread  # median, p90 and max, as the SLURM load benchmark reports them
from repro.runs.rundir import RunDir
from repro.tracking.wandb_service import alive
from testing_support.wandb_endpoint import FAKE_API_KEY, wandb_standin

NAME = "wandb-array"


def write_sweep(path: Path, runs: int) -> Path:
    path.write_text(
        textwrap.dedent(
            f"""\
            name: {NAME}
            metric: final_test_acc
            seeds: {list(range(runs))}
            common: [split=full, tracker=wandb, tracker.mode=online, tracker.entity=standin, progress=none]
            columns:
              Digits/SmallCNN: []
            rows:
              Baseline: [method=baseline]
            """
        )
    )
    return path


def descendants(root: int) -> set[int]:
    """Pids of the live processes under `root` (from /proc's parent pids)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def services_started_by(pids: set[int]) -> set[int]:
    """Live `wandb-core` processes started by any of `pids` (W&B passes them `--pid <starter>`)."""
    found = set()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            argv = [a.decode(errors="replace") for a in (entry / "cmdline").read_bytes().split(b"\0")]
        except OSError:
            continue
        if Path(argv[0]).name == "wandb-core" and any(
            a == "--pid" and b.isdigit() and int(b) in pids for a, b in zip(argv, argv[1:])
        ):
            found.add(int(entry.name))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--silent-after", type=int, default=20, help="the server stops answering once N runs are done")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True, help="a fresh directory for the runs and the report")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "WANDB_API_KEY": FAKE_API_KEY, "WANDB_SILENT": "true", "OMP_NUM_THREADS": "1"}
    for var in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_CONFIG_DIR", "WANDB_ARTIFACT_DIR"):
        env[var] = str(out / "wandb-dirs" / var.lower())
    for var in ("WANDB_MODE", "WANDB_SERVICE"):
        env.pop(var, None)
    sweep = write_sweep(out / f"{NAME}.yaml", args.runs)
    runs_dir = out / "out" / "runs"
    report: dict = {"runs": args.runs, "jobs": args.jobs, "silent_after": args.silent_after}
    report["load_before"] = os.getloadavg()
    with wandb_standin() as server:
        env["WANDB_BASE_URL"] = server.url
        command = [sys.executable, "-m", "repro.cli", "sweep", str(sweep), "--output-root", str(out / "out")]
        command += ["--jobs", str(args.jobs), "--epochs", "1", "--subset", "100", "--test-subset", "100"]
        started = time.monotonic()
        sweep_proc = subprocess.Popen(command, env=env, cwd=out, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        watched: set[int] = set()  # every W&B service the array's runs started
        while sweep_proc.poll() is None:
            watched |= services_started_by(descendants(sweep_proc.pid))
            done = sum(RunDir(p).is_done() for p in runs_dir.iterdir()) if runs_dir.is_dir() else 0
            if done >= args.silent_after and not server.silent.is_set():
                server.go_silent()
                report["silent_at_s"] = round(time.monotonic() - started, 1)
            time.sleep(0.5)
        report["sweep_s"] = round(time.monotonic() - started, 1)
        report["sweep_exit"] = sweep_proc.returncode
        report["sweep_tail"] = sweep_proc.stdout.read().decode(errors="replace").strip().splitlines()[-3:]
        report["services_seen"] = len(watched)
        report["services_left"] = sorted(pid for pid in watched if alive(pid))
        report["load_after"] = os.getloadavg()

        waited, beyond, ended = [], [], {}
        for path in sorted(runs_dir.iterdir()):
            rd = RunDir(path)
            status = json.loads((path / "wandb_status.json").read_text())
            waited.append(status["seconds_waited"])
            provenance = json.loads((path / "provenance.json").read_text())
            began, end = (datetime.fromisoformat(provenance[k]).timestamp() for k in ("first_started", "ended"))
            beyond.append(end - began - sum(r["seconds"] for r in rd.read_metrics()))
            switched = status.get("went_offline_after")
            how = f"offline after {switched}" if switched else status["logged_to"]
            ended[how] = ended.get(how, 0) + 1
        report["runs_done"] = sum(RunDir(p).is_done() for p in runs_dir.iterdir())
        report["budget_s"] = status.get("budget")
        report["seconds_waited"] = spread(waited)
        report["run_time_beyond_training"] = spread(beyond)
        report["ended_on_wandb"] = ended

        server.answer_again()
        sync = [sys.executable, "-m", "repro.cli", "wandb", "sync", str(out / "out"), "--jobs", "4", "--backoff", "1"]
        started = time.monotonic()
        first = subprocess.run(sync, env=env, cwd=out, capture_output=True, text=True)
        report["sync_s"] = round(time.monotonic() - started, 1)
        report["sync_exit"] = first.returncode
        report["sync_summary"] = [line for line in first.stdout.splitlines() if line.startswith("synced")]
        with_summary = [r for r in server.runs.values() if "summary/final_test_acc" in r.summary]
        report["standin_runs_with_summary"] = len(with_summary)
        before = server.requests
        second = subprocess.run(sync, env=env, cwd=out, capture_output=True, text=True)
        report["second_sync_summary"] = [line for line in second.stdout.splitlines() if line.startswith("synced")]
        report["second_sync_requests"] = server.requests - before
    (out / "report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
