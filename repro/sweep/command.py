"""`repro sweep FILE [OVERRIDE ...] [options]` and `repro sweep status FILE [options]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from repro.errors import UserError
from repro.hydra_flags import check_overrides, config_roots, parse_with_overrides
from repro.runs.rundir import RunDir
from repro.sweep.cluster_profile import load_profile
from repro.sweep.protocol.base import FlagsGiven, Preflight, StageFlag
from repro.sweep.protocol.registry import stages
from repro.sweep.spec.model import Scale
from repro.sweep.sweep_file import load_sweep

# The exit status of `repro sweep` and `repro sweep status` while a stage holds runs back (`Plan.held`: the baseline
# gate, the estimated-T hold, any stage's), whichever stage it is; docs/reliability.md has every exit status.
HELD = 4

USAGE = """examples:
  repro sweep sweeps/smoke.yaml                      run a sweep on this machine (folds before finals)
  repro sweep sweeps/smoke.yaml --jobs 4             up to 4 runs at once here (default: one per core)
  repro sweep sweeps/table1.yaml --dry-run           print the plan only
  repro sweep table1 --dry-run                       the same: a bundled sweep file by name, from any directory
  repro sweep sweeps/table6.yaml --tune-strategy halving --dry-run   tune by successive halving, priced beside the grid
  repro sweep sweeps/table1.yaml --executor slurm --profile slurm/profiles/mycluster.yaml
  repro sweep sweeps/table1.yaml tracker.mode=online --executor slurm --profile mycluster
  repro sweep sweeps/table5.yaml --rows Baseline     only some rows (also --columns, --seeds)
  repro sweep status sweeps/table1.yaml              every run's state; logs of the failed ones
  repro sweep sweeps/table1.yaml --accept-gate       go on past a baseline gate that holds (recorded)
  repro sweep sweeps/table1.yaml --max-gpu-hours 200 start nothing that would take the sweep past 200 GPU-hours

Re-running the same command is safe: done runs are skipped, queued or running jobs are left alone, failed or lost
runs are submitted again and resume from their last checkpoint. A table with a baseline gate (`gate:` in its file)
trains its gate runs first and holds the rest until they land near the published number. Exit status: 0 nothing
held or failed, 1 a run failed, 2 bad input, 3 another process holds a run, 4 a stage holds runs back (the gate, the
estimated-T hold, --max-gpu-hours), 130 / 143 interrupted (docs/reliability.md).
Scale a table down with --epochs/--subset/--test-subset
(this changes the runs' ids: they are different runs from the full-size ones)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = USAGE
    parser.usage = "repro sweep FILE [OVERRIDE ...] [options]  |  repro sweep status FILE [options]"
    parser.add_argument(
        "target",
        nargs="+",
        metavar="FILE [OVERRIDE ...]",
        help="a sweep file (sweeps/tableN.yaml, or a bundled one's name: table1, demo/table6), then optional Hydra "
        "overrides for every run "
        "(e.g. tracker.mode=online data.root=/data/cifar); or `status FILE`",
    )
    parser.add_argument(
        "--executor",
        choices=("local", "slurm"),
        default="local",
        help="local: run here, up to --jobs runs at once (default); slurm: submit job arrays",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=int,
        metavar="N",
        help="with --executor local: train up to N runs at once (N x K with --runs-per-gpu K), each in its own "
        "process with its own torch threads (default: one per core available to this process)",
    )
    parser.add_argument(
        "--runs-per-gpu",
        type=int,
        metavar="K",
        help="train K runs side by side per GPU: per SLURM job (default: the profile's runs_per_gpu, else 1), or "
        "here per --jobs slot (jobs x K at once); priced and memory-checked from `repro bench --concurrency K` "
        "(docs/cluster.md, 'Several runs per GPU')",
    )
    parser.add_argument(
        "--profile", help="cluster profile for --executor slurm (a path, or a name under slurm/profiles/)"
    )
    parser.add_argument(
        "--output-root", default="outputs", help="where runs land: <DIR>/runs/<run_id>/ (default: outputs)"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan; run and submit nothing")
    parser.add_argument(
        "--preflight",
        action="store_true",
        help="train each tuned cell's grid corners for a few epochs (own runs, under "
        "<output-root>/preflight; here, or with --executor slurm as one job array it waits for), print label "
        "movement and step time, then the plan recalibrated",
    )
    parser.add_argument("--preflight-epochs", type=int, default=2, metavar="N", help="epochs per preflight run")
    parser.add_argument(
        "--gpu-model",
        help="with --dry-run, status or --max-gpu-hours: estimate GPU-hours from this GPU's `repro "
        "bench` calibration (default: this machine's GPU, else the one stored)",
    )
    parser.add_argument("--epochs", type=int, help="train every run for N epochs instead of the paper's")
    parser.add_argument("--subset", type=int, help="keep K training samples (stratified) in every run")
    parser.add_argument("--test-subset", type=int, help="keep K test samples (stratified) in every run")
    for flag in _typed_flags():  # the options the registered stages add
        if flag.kind is None:
            parser.add_argument(flag.flag, action="store_true", help=flag.help)
        else:
            parser.add_argument(flag.flag, type=flag.kind, metavar=flag.metavar, choices=flag.choices, help=flag.help)
    parser.add_argument("--rows", nargs="+", metavar="ROW", help="only these rows (names as in the file)")
    parser.add_argument("--columns", nargs="+", metavar="COLUMN", help="only these columns")
    parser.add_argument("--seeds", nargs="+", type=int, metavar="SEED", help="only these seeds")


def _typed_flags() -> list[StageFlag]:
    """The registered stages' options of `repro sweep`, in registry order (those typed on its line)."""
    return [flag for stage in stages() for flag in stage.flags if flag.typed]


def stage_options(args: argparse.Namespace, *, trains: bool) -> tuple[dict[str, object], dict[str, object]]:
    """The registered stages' options that were given, each checked by its flag (`StageFlag.check`; `trains`: the
    command trains or submits): (those of the plan, which travel on the Scale; those of this command's decisions,
    which the stages read on `Asked`), name -> value each."""
    typed = _typed_flags()
    given = {f.name: getattr(args, f.name) for f in typed if getattr(args, f.name) is not None}
    given = {k: v for k, v in given.items() if v is not False}  # a switch left out; a number, 0 included, given
    for flag in typed:
        if flag.check is not None and flag.name in given:
            flag.check(given[flag.name], FlagsGiven(given, trains))
    deciding = {f.name for f in typed if f.decides}
    return (
        {k: v for k, v in given.items() if k not in deciding},
        {k: v for k, v in given.items() if k in deciding},
    )


def parse_args(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Overrides anywhere on the line: `repro sweep FILE --rows X progress=plain` (a token counts as an override when
    its key starts with a config key or group, so a column name with a '=' stays a column name)."""
    return parse_with_overrides(parser, argv, "target", roots=config_roots())


def run(args: argparse.Namespace) -> int:
    target = list(args.target)
    status_mode = target[0] == "status"
    if status_mode:
        target = target[1:]
        if not target:
            raise UserError("`repro sweep status` needs the sweep file: repro sweep status sweeps/table1.yaml")
    path, extra = target[0], target[1:]
    bad = [o for o in extra if "=" not in o]
    if bad:
        raise UserError(
            f"{bad[0]!r} is not an override (key=value). Usage: repro sweep FILE [OVERRIDE ...] "
            "[options]; options go after the file, e.g. --rows 'Ours (Class)'."
        )

    check_overrides(extra)  # hydra/... and hydra.*, +/~: refused with the way to do it
    scale = None
    options, decisions = stage_options(args, trains=not (status_mode or args.dry_run or args.preflight))
    if options or any(v is not None for v in (args.epochs, args.subset, args.test_subset)):
        scale = Scale(epochs=args.epochs, subset=args.subset, test_subset=args.test_subset, stage_options=options)
    if args.jobs is not None and (status_mode or args.executor != "local"):
        raise UserError(
            f"--jobs {args.jobs} applies to runs trained here (--executor local); SLURM runs as many jobs "
            "at once as the cluster allows. Leave --jobs out."
        )
    only = {k: v for k, v in (("rows", args.rows), ("columns", args.columns), ("seeds", args.seeds)) if v}
    if status_mode:
        from repro.sweep.status import (  # deferred: submitit is heavy; `repro sweep --help` needs none
            render_status,
            sweep_status,
        )

        plan = sweep_status(
            path,
            output_root=args.output_root,
            scale=scale,
            only=only or None,
            extra_overrides=extra or None,
            decision_options=decisions,
            gpu_model=args.gpu_model,
        )
        print(render_status(plan, args.gpu_model))  # its stages decide first: the runs they hold read held
        return 1 if plan.counts()["failed"] or plan.counts()["damaged"] else HELD if plan.held else 0
    if args.preflight:
        return _preflight(args, path, scale, only, extra)
    from repro.sweep.run import run_sweep  # deferred: submitit is heavy; `repro sweep --help` needs none

    plan = run_sweep(
        path,
        output_root=args.output_root,
        executor=args.executor,
        profile=args.profile,
        scale=scale,
        dry_run=args.dry_run,
        only=only or None,
        extra_overrides=extra,
        gpu_model=args.gpu_model,
        jobs=args.jobs,
        decision_options=decisions,
        runs_per_gpu=args.runs_per_gpu,
    )
    return 1 if plan.failed else HELD if plan.held and not args.dry_run else 0


def _preflight(args: argparse.Namespace, path: str, scale, only: dict, extra: list[str]) -> int:
    """`repro sweep FILE --preflight`: plan the sweep (nothing of it is trained), then train the registered stages'
    preflight runs (the tuning stage's grid corners) and report them."""
    from repro.sweep.ask_stages import run_preflights  # deferred: the stages' modules (above)
    from repro.sweep.executors.elsewhere import train_elsewhere  # deferred: submitit is heavy (above)
    from repro.sweep.sweep_plan import plan_sweep, refuse_rows_that_need_more, select  # deferred: submitit (above)

    if args.dry_run:
        raise UserError(
            "--preflight trains its few short runs (a dry run trains nothing): leave out --dry-run, or run "
            "--dry-run alone for the plan's estimate."
        )
    profile = None
    if args.executor == "slurm":
        from repro.sweep.executors.slurm import cluster  # deferred: submitit is heavy (above)

        if args.profile is None:
            raise UserError(
                "--preflight --executor slurm needs a cluster profile: --profile slurm/profiles/NAME.yaml (copy "
                "slurm/profiles/example-gpu.yaml and fill in your partition and account)."
            )
        profile = load_profile(args.profile)
        cluster.check_partition(profile.partition)
    spec = select(load_sweep(path), only or None, scale)
    refuse_rows_that_need_more(spec)
    plan = plan_sweep(
        spec, output_root=Path(args.output_root).expanduser().resolve(), scale=scale, extra_overrides=extra
    )
    how = Preflight(
        declared=False,
        train=train_elsewhere(args.jobs, profile, print),
        report=print,
        epochs=args.preflight_epochs,
        gpu_model=args.gpu_model,
    )
    pre = run_preflights(spec, lambda: plan, how)
    return 0 if all(RunDir.for_config(run.config).is_done() for run in pre) else 1
