"""A table's worth of jobs on SLURM: a 200-run tiny sweep (1 epoch, 100 images, W&B offline) sent to a SLURM cluster
as `repro sweep` sends a paper table, then the offline W&B copies uploaded by `repro wandb sync` through a stand-in
`wandb` (nothing leaves the machine). It reports what the machinery costs around the training:

- per run: the queue wait, the job's time, its training time, and the job's time minus its training (interpreter
  and imports, config, data, W&B offline start and finish, checkpoints: the per-run overhead);
- the makespan, and what each run cost beyond its training there (makespan x slots / runs - training);
- the planner's time (`--dry-run`), the submission's, and `repro sweep status`'s on the 200 runs;
- that every run trained exactly once (one provenance session, one COMPLETED job in accounting);
- `repro wandb sync`: its time for 200 runs, and that a second call uploads nothing.

    .venv/bin/python -m benchmarks.slurm_load --runs 200 --out /tmp/slurm-load            # starts its own cluster
    SLURM_CONF=/path/slurm.conf .venv/bin/python -m benchmarks.slurm_load --profile mycluster --out DIR

Without SLURM_CONF it starts the throw-away one-node cluster of slurm/cluster.sh in OUT/cluster and stops it at the
end. A benchmark, not a test: on the 2-core development machine 200 runs take about 15-30 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path

from repro.checkout import CHECKOUT_ROOT
from repro.runs.rundir import RunDir
from repro.sweep.executors.slurm.registry import Registry
from repro.sweep.run import run_sweep
from repro.sweep.spec.model import Scale
from repro.sweep.sweep_folder import sweep_dir

NAME = "slurm-load"
STANDIN_WANDB = """\
    #!{python}
    # stands in for `wandb sync FOLDER`: W&B's upload is not what is measured, and nothing may leave the machine
    import sys, time
    time.sleep(0.05)
    print("Syncing:", sys.argv[-1], "... done.")
"""


def write_sweep(path: Path, runs: int) -> Path:
    path.write_text(
        textwrap.dedent(
            f"""\
            name: {NAME}
            metric: final_test_acc
            seeds: {list(range(runs))}
            common: [split=full, tracker=wandb, progress=none]
            columns:
              Digits/SmallCNN: []
            rows:
              Baseline: [method=baseline]
            """
        )
    )
    return path


def start_cluster(directory: Path) -> Path:
    subprocess.run(["bash", str(CHECKOUT_ROOT / "slurm" / "cluster.sh"), "start", str(directory)], check=True)
    return directory / "etc" / "slurm.conf"


def sacct_rows(job_ids: list[str]) -> dict[str, dict]:
    """Every job's accounting rows (all attempts, --duplicates): job id -> {states, submit, start, end}."""
    arrays = sorted({j.split("_")[0] for j in job_ids})
    out = subprocess.run(
        ["sacct", "-D", "-X", "-n", "-P", "-j", ",".join(arrays), "-o", "JobID,State,Submit,Start,End"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows: dict[str, dict] = {}
    for line in out.splitlines():
        jid, state, submit, start, end = line.split("|")
        row = rows.setdefault(jid, {"states": []})
        row["states"].append(state.split()[0])
        row.update(submit=_time(submit), start=_time(start), end=_time(end))
    return rows


def _time(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def timed(command: list[str], env: dict | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
    return time.perf_counter() - started, done.stdout


def spread(values: list[float]) -> str:
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
    return f"median {statistics.median(values):.1f} s, p90 {p90:.1f} s, max {values[-1]:.1f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--out", type=Path, required=True, help="a fresh directory for the runs and the report")
    parser.add_argument("--profile", default=str(CHECKOUT_ROOT / "slurm" / "profiles" / "local.yaml"))
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for var in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_CONFIG_DIR", "WANDB_ARTIFACT_DIR"):
        os.environ[var] = str(out / "wandb-dirs" / var.lower())  # the jobs inherit these (sbatch --export=ALL)
    os.environ["WANDB_MODE"] = "offline"
    os.environ["WANDB_SILENT"] = "true"
    own_cluster = "SLURM_CONF" not in os.environ
    if own_cluster:
        os.environ["SLURM_CONF"] = str(start_cluster(out / "cluster"))
    report: dict = {"runs": args.runs, "load_before": os.getloadavg()}
    try:
        sweep = write_sweep(out / f"{NAME}.yaml", args.runs)
        scale = Scale(epochs=1, subset=100, test_subset=100)
        kwargs = dict(
            output_root=out / "out", executor="slurm", profile=args.profile, scale=scale, report=lambda _: None
        )
        started = time.perf_counter()
        run_sweep(sweep, dry_run=True, **kwargs)
        report["plan_s"] = time.perf_counter() - started
        started = time.perf_counter()
        plan = run_sweep(sweep, **kwargs)
        report["plan_and_submit_s"] = time.perf_counter() - started
        runs = list(plan.unique)
        registry = Registry.load(sweep_dir((out / "out").resolve(), NAME) / "jobs.json")
        jobs = {rid: registry.latest(rid).job_id for rid in runs}
        while not all(RunDir(out / "out" / "runs" / rid).is_done() for rid in runs):
            failed = [
                rid for rid in runs if (RunDir(out / "out" / "runs" / rid).read_status() or {}).get("state") == "failed"
            ]
            if failed:
                raise RuntimeError(f"{len(failed)} run(s) failed, e.g. {failed[0]}")
            time.sleep(5)
        for _ in range(60):  # the last jobs' accounting records (COMPLETING -> COMPLETED)
            acct = sacct_rows(list(jobs.values()))
            if all(acct.get(j, {}).get("end") for j in jobs.values()):
                break
            time.sleep(2)
        report["status_s"], status_text = timed(
            [
                str(CHECKOUT_ROOT / ".venv" / "bin" / "repro"),
                "sweep",
                "status",
                str(sweep),
                "--output-root",
                str(out / "out"),
                "--epochs",
                "1",
                "--subset",
                "100",
                "--test-subset",
                "100",
            ]
        )
        report["status_tail"] = status_text.strip().splitlines()[-3:]
        queue, job, training, sessions, startup, inside, exiting, waited = [], [], [], [], [], [], [], []
        for rid, jid in jobs.items():
            rd = RunDir(out / "out" / "runs" / rid)
            row = acct[jid]
            queue.append(row["start"] - row["submit"])
            job.append(row["end"] - row["start"])
            training.append(sum(r["seconds"] for r in rd.read_metrics()))
            provenance = json.loads((rd.path / "provenance.json").read_text())
            sessions.append(len(provenance["sessions"]))
            began, ended = (_time(provenance[k]) for k in ("first_started", "ended"))
            startup.append(began - row["start"])  # interpreter, imports, unpickling, config, data
            inside.append(ended - began)  # training, evaluation, checkpoints, W&B start and finish
            exiting.append(row["end"] - ended)  # W&B's service at exit, submitit's result
            waited.append(json.loads((rd.path / "wandb_status.json").read_text()).get("seconds_waited", 0.0))
        states = [row["states"] for jid, row in acct.items() if jid in set(jobs.values())]
        report["trained_exactly_once"] = all(s == 1 for s in sessions) and all(s == ["COMPLETED"] for s in states)
        report["queue_wait"] = spread(queue)
        report["job_time"] = spread(job)
        report["training"] = spread(training)
        report["job_minus_training"] = spread([j - t for j, t in zip(job, training)])
        report["job_start_to_run_start"] = spread(startup)
        report["run_start_to_run_end"] = spread(inside)
        report["run_end_to_job_end"] = spread(exiting)
        report["waited_on_wandb_offline"] = spread(waited)
        makespan = max(acct[j]["end"] for j in jobs.values()) - min(acct[j]["submit"] for j in jobs.values())
        slots = int(__import__("yaml").safe_load(Path(args.profile).read_text()).get("array_parallelism") or 1)
        report["makespan_s"] = makespan
        report["beyond_training_per_run_s"] = makespan * slots / len(runs) - statistics.mean(training)

        bin_dir = out / "standin-bin"
        bin_dir.mkdir(exist_ok=True)
        (bin_dir / "wandb").write_text(textwrap.dedent(STANDIN_WANDB.format(python=sys.executable)))
        (bin_dir / "wandb").chmod(0o755)
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
        sync = [str(CHECKOUT_ROOT / ".venv" / "bin" / "repro"), "wandb", "sync", str(out / "out"), "--jobs", "4"]
        report["sync_s"], first = timed(sync, env)
        report["sync_again_s"], second = timed(sync, env)
        report["sync_first"] = [line for line in first.splitlines() if line.startswith("synced")]
        report["sync_second"] = [line for line in second.splitlines() if line.startswith("synced")]
    finally:
        report["load_after"] = os.getloadavg()
        if own_cluster:
            subprocess.run(
                ["bash", str(CHECKOUT_ROOT / "slurm" / "cluster.sh"), "stop", str(out / "cluster")], check=False
            )
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    for key, value in report.items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
