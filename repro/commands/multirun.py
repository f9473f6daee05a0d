"""`repro train -m OVERRIDE ...`: every combination of Hydra sweep overrides, run through the sweep machinery.

The combinations are Hydra's own: its override parser and its BasicSweeper's Cartesian product of comma lists,
`range()` and `choice()` (`glob()` over a group's options too). They become an in-memory sweep (one row per
combination, seeds as the seeds) handed to `repro.sweep.run.run_sweep`, the function behind `repro sweep`: the same
planning (a run that is done is skipped, a queued or running SLURM job is left alone, the same run asked for twice
runs once), the same local and SLURM executors, the same locks. Each run is the run `repro train <its overrides>`
would train (same run id, same directory).
"""

from __future__ import annotations

import argparse
import inspect
import itertools
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

from hydra import initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from omegaconf import OmegaConf

from repro.config import CONFIG_MODULE
from repro.errors import UserError
from repro.hydra_flags import check_overrides
from repro.path_keys import reads_back
from repro.runs.attempts import archive_done_run
from repro.runs.rundir import RunDir
from repro.sweep.run import run_sweep
from repro.sweep.spec.model import Part, RowSpec, SweepSpec
from repro.sweep.sweep_plan import plan_sweep

SWEEP_NAME = "multirun"  # <output_root>/sweeps/multirun/: the job registry and logs of `repro train -m`


def _run_sweep():
    return run_sweep


def executor_takes_jobs() -> bool:
    """`--jobs N` is offered once the sweep executor takes it (parallel local runs)."""
    return "jobs" in inspect.signature(_run_sweep()).parameters


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("multirun (-m): every combination of comma lists / range() / choice()")
    group.add_argument(
        "-m",
        "--multirun",
        action="store_true",
        help="run every combination of the overrides, e.g. -m seed=0,1,2 method=baseline,class_labels"
        " (done runs are skipped; each run is the one `repro train` of its overrides trains)",
    )
    group.add_argument(
        "--executor",
        choices=("local", "slurm"),
        default=None,
        help="with -m: local (here, the default) or slurm (job arrays, needs --profile)",
    )
    group.add_argument("--profile", help="with -m --executor slurm: the cluster profile (slurm/profiles/NAME.yaml)")
    group.add_argument("--dry-run", action="store_true", help="with -m: print the plan; run nothing")
    if executor_takes_jobs():
        group.add_argument(
            "--jobs", type=int, default=None, metavar="N", help="with -m --executor local: up to N runs at once"
        )


def combinations(overrides: Sequence[str]) -> list[list[str]]:
    """Hydra's expansion of the sweep overrides: one list of plain overrides per combination, in Hydra's order (as
    its basic sweeper runs them: per key its values, a later override of a key replacing an earlier one, then every
    combination with the first key varying slowest), through Hydra's public override API."""
    parsed = check_overrides(overrides, multirun=True)
    values: dict[str, list[str]] = {}
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
            for o in parsed:
                key = o.get_key_element()
                if not o.is_sweep_override():
                    values[key] = [f"{key}={o.get_value_element_as_str()}"]
                    continue
                if not o.is_discrete_sweep():
                    raise HydraException(f"{o.input_line}: an interval cannot be swept; list its values (a,b,c)")
                o.config_loader = GlobalHydra.instance().config_loader()  # glob() lists a group's options
                values[key] = [f"{key}={value}" for value in o.sweep_string_iterator()]
    except HydraException as exc:
        raise UserError(f"Cannot expand the sweep {list(overrides)}: {' '.join(str(exc).split())}") from None
    finally:
        GlobalHydra.instance().clear()
    return [list(c) for c in itertools.product(*values.values())]


def multirun_spec(combos: list[list[str]]) -> tuple[Any, str]:
    """The in-memory sweep of the combinations, and the output root they name (one for all of them)."""
    defaults = OmegaConf.load(str(_conf_file(CONFIG_MODULE)))
    values: dict[str, set[str]] = {}
    for combo in combos:
        for o in combo:
            values.setdefault(o.split("=", 1)[0], set()).add(o)
    common = tuple(o for o in combos[0] if len(values[o.split("=", 1)[0]]) == 1 and not _is(o, "seed", "output_root"))
    rows: dict[str, tuple[str, ...]] = {}
    seeds: list[Any] = []
    roots = {str(reads_back(o.split("=", 1)[1])) for c in combos for o in c if _is(o, "output_root")} or {
        str(defaults.output_root)
    }  # the path itself, not its quoted override form (repro/path_keys.py)
    for combo in combos:
        varying = tuple(o for o in combo if o not in common and not _is(o, "seed", "output_root"))
        seed = next((o.split("=", 1)[1] for o in combo if _is(o, "seed")), str(defaults.seed))
        rows.setdefault(" ".join(varying) or "(all)", varying)
        if seed not in seeds:
            seeds.append(seed)
    if len(roots) > 1:
        raise UserError(f"output_root takes one value in a multirun (got {sorted(roots)}); run one -m per root.")
    spec = SweepSpec(
        path=Path("repro train -m"),
        name=SWEEP_NAME,
        metric="final_test_acc",
        seeds=seeds,
        common=common,
        column_parts={"train": Part()},
        row_specs={name: RowSpec(name=name, part=Part(overrides=o)) for name, o in rows.items()},
    )
    return spec, roots.pop()


def _is(override: str, *keys: str) -> bool:
    return override.split("=", 1)[0] in keys


def _conf_file(module: str):
    return resources.files(module).joinpath("config.yaml")


def run(args: argparse.Namespace) -> int:
    """Expand, plan and run (or submit) every combination; report done runs made at another commit."""
    if args.executor == "slurm" and not args.profile:
        raise UserError(
            "-m --executor slurm needs a cluster profile: --profile slurm/profiles/NAME.yaml (copy "
            "slurm/profiles/example-gpu.yaml and fill in your partition and account)."
        )
    combos = combinations(args.overrides)
    spec, output_root = multirun_spec(combos)
    root = Path(output_root).expanduser().resolve()
    print(f"multirun: {len(combos)} combination(s) of {' '.join(args.overrides)}")
    before = plan_sweep(spec, output_root=root)
    if args.rerun and not args.dry_run:
        _archive_done(before, args.wait)
    extra: dict[str, Any] = {}
    if getattr(args, "jobs", None) is not None:
        extra["jobs"] = args.jobs
    plan = _run_sweep()(
        spec, output_root=root, executor=args.executor or "local", profile=args.profile, dry_run=args.dry_run, **extra
    )
    return 1 if plan.failed else 0


def _archive_done(plan: Any, wait: float) -> None:
    for rid, status in plan.status.items():
        if status.state == "done":
            dest = archive_done_run(RunDir(plan.output_root / "runs" / rid), wait)
            if dest is not None:
                print(f"run {rid}: the done attempt is kept in {dest}; a new attempt will be trained")
