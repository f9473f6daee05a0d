"""The sweep files that define the tables and figures, and their planned runs: analysis/'s one door into the sweep
package (repro.sweep), so that every table and figure chooses its runs the same way.

Takes a directory of sweep files and an output root; gives, per table number, the sweep file (`load_specs`:
tableN.yaml, or a file named for its subject that declares `table: N`), the scale and overrides its last
`repro sweep` into that output root ran with (`last_sweep_options`, which the runs' ids depend on), and its planned
runs (`planned_runs`; `SweepPlans` expands each file at most once for all who ask). analysis/cells.py joins
planned runs to the run frame; analysis/tables/ and analysis/figures/ read their cells from there. `repro demo` runs
its sweeps through `run_locally` here too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Sequence

import yaml

from repro.errors import UserError
from repro.sweep.ask_stages import decide
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.plan import make_plan
from repro.sweep.spec.model import STAGES, PlannedRun, Scale, SweepSpec
from repro.sweep.spec.sweep_file import load_sweep
from repro.sweep.stages.registry import follows_seeds_run
from repro.sweep.sweep_folder import last_selection, sweep_dir

__all__ = [
    "STAGES",
    "PlannedRun",
    "as_swept",
    "Scale",
    "SweepPlans",
    "SweepSpec",
    "check_jobs",
    "last_sweep_options",
    "load_specs",
    "not_needed_runs",
    "planned_runs",
    "run_locally",
    "sweep_folder",
]

_TABLE_FILE = re.compile(r"^table(\d+)\.ya?ml$")


def load_specs(sweeps_dir: str | Path, tables: Sequence[int] | None = None) -> dict[int, Any]:
    """{table number: SweepSpec} from `<sweeps_dir>/tableN.yaml`; all such files when `tables` is None."""
    sweeps_dir = Path(sweeps_dir)
    files = {int(m.group(1)): p for p in sorted(sweeps_dir.glob("table*.y*ml")) if (m := _TABLE_FILE.match(p.name))}
    files.update({n: p for n, p in _named_table_files(sweeps_dir).items() if n not in files})
    if tables is None:
        wanted = sorted(files)
        if not wanted:
            raise UserError(
                f"No sweep files (tableN.yaml) in {sweeps_dir}: the tables are defined by the sweep files, which "
                "say which runs make each cell. Pass --sweeps-dir pointing at the repository's sweeps/ directory."
            )
    else:
        wanted = list(dict.fromkeys(int(t) for t in tables))
        missing = [t for t in wanted if t not in files]
        if missing:
            have = ", ".join(str(t) for t in sorted(files)) or "none"
            raise UserError(
                f"No sweep file for table(s) {', '.join(map(str, missing))} in {sweeps_dir} (tables with a sweep file: "
                f"{have}). Table 9 lists hyperparameters and has no runs; pick tables from the list or pass "
                "--sweeps-dir pointing at the directory that holds tableN.yaml."
            )
    specs = {t: load_sweep(files[t]) for t in wanted}  # its overrides are checked when it is expanded
    for t, spec in specs.items():
        declared = getattr(spec, "table", None)
        if declared is not None and int(declared) != t and _TABLE_FILE.match(files[t].name):
            raise UserError(
                f"{files[t]} says table: {declared}, but its file name says table {t}; rename the file "
                f"to table{declared}.yaml or fix its `table:` key."
            )
    return specs


def _named_table_files(sweeps_dir: Path) -> dict[int, Path]:
    """Sweep files named for their subject (cifar_n.yaml) that declare a table number (`table: 14`)."""
    found: dict[int, Path] = {}
    for path in sorted(sweeps_dir.glob("*.y*ml")):
        if _TABLE_FILE.match(path.name):
            continue
        try:
            number = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("table")
        except (yaml.YAMLError, AttributeError, OSError):
            continue  # not a table's sweep file (the sweep command reports its own problems)
        if isinstance(number, int) and not isinstance(number, bool):
            found.setdefault(number, path)
    return found


def last_sweep_options(output_root: str | Path, spec: Any) -> tuple[Scale | None, list[str]]:
    """(scale, extra overrides) of the last `repro sweep` of this sweep into `output_root` (its selection.json), so
    the table finds the runs that command made; (None, []) when there is no record."""
    name = getattr(spec, "name", None)
    selection = last_selection(output_root, name) if name else None
    if not selection:
        return None, []
    scale = Scale(**selection["scale"]) if selection.get("scale") else None
    return scale, list(selection.get("extra_overrides") or [])


def as_swept(output_root: str | Path, spec: Any, scale: Scale | None) -> Any:
    """The sweep at the seeds its last `repro sweep` into `output_root` ran, where a stage's plan follows them (seeds
    until decided: its further seeds come after those); else the file's whole protocol, whatever seeds ran (a cell
    then shows "n=2 of 3" for a seed not run)."""
    if not isinstance(spec, SweepSpec):  # a stand-in without a sweep file has no stages
        return spec
    selection = last_selection(output_root, spec.name)
    ran = [seed for seed in spec.seeds if seed in ((selection or {}).get("seeds") or [])]
    if not ran or ran == list(spec.seeds) or not follows_seeds_run(spec, scale):
        return spec
    return spec.select(seeds=ran)


def sweep_folder(output_root: str | Path, spec: Any) -> Path | None:
    """Where `repro sweep` keeps this sweep's records in `output_root` (<output_root>/sweeps/<name>/); None for a
    stand-in without a name."""
    name = getattr(spec, "name", None)
    return sweep_dir(output_root, name) if name else None


def planned_runs(
    spec: Any, *, output_root: str | Path, scale: Scale | None = None, extra_overrides: Sequence[str] = ()
) -> list[PlannedRun]:
    """Every run the sweep plans into `output_root` (repro.sweep's expansion, which composes and checks each run's
    config: what costs). A `spec` may be any object with its own `expand(output_root=, scale=, extra_overrides=)`
    (the tests' and benchmarks' stand-ins)."""
    extra = {"extra_overrides": list(extra_overrides)} if extra_overrides else {}
    expand = getattr(spec, "expand", None) or (lambda **kw: expand_sweep(spec, **kw))
    return expand(output_root=str(output_root), scale=scale, **extra)


def not_needed_runs(
    spec: Any, expanded: list[PlannedRun], output_root: str | Path, scale: Scale | None = None
) -> dict[str, str]:
    """Run id -> why, for each planned run a stage let go as not needed on the runs in `output_root` (the until-decided
    stage's further seeds of claim lines already decided), found as `repro sweep status` finds it: the registered
    stages decide on the plan, recording nothing. A table counts such a run neither done nor missing. A stand-in
    spec without a sweep file has no stages' decisions ({})."""
    if not isinstance(spec, SweepSpec) or not expanded:
        return {}
    plan = make_plan(spec, expanded, output_root)
    plan.scale = scale  # the stages' keys given on the command line (`--until-decided`) travel on it
    decide(plan)
    return plan.not_needed


class SweepPlans:
    """The table sweep files of one directory (`load_specs`) planned into one output root, each expanded at most
    once and only when asked for; as its last `repro sweep` there ran it unless `options` ({table: (scale, extra
    overrides)}) says otherwise."""

    def __init__(
        self,
        specs: dict[int, Any],
        output_root: str | Path,
        *,
        options: dict[int, tuple[Scale | None, Sequence[str]]] | None = None,
        where: str = "",
    ) -> None:
        self.specs, self.output_root, self.options = specs, output_root, dict(options or {})
        self.where = where  # the directory the specs came from, for messages
        self._planned: dict[int, list[PlannedRun]] = {}

    def spec(self, table: int) -> Any | None:
        return self.specs.get(table)

    def planned(self, table: int) -> list[PlannedRun]:
        """The runs table `table`'s sweep file plans (none without a file)."""
        if table not in self._planned:
            spec = self.specs.get(table)
            if spec is None:
                return []
            scale, extra = self.options.get(table) or last_sweep_options(self.output_root, spec)
            spec = as_swept(self.output_root, spec, scale)
            self._planned[table] = planned_runs(spec, output_root=self.output_root, scale=scale, extra_overrides=extra)
        return self._planned[table]


def check_jobs(jobs: int | None) -> int:
    """`--jobs`: a positive number of runs at once (None: one per available core)."""
    from repro.sweep.executors.local import check_jobs as checked  # deferred: submitit; `repro demo --help` loads none

    return checked(jobs)


def run_locally(
    sweeps: Sequence[tuple[SweepSpec, Scale | None, Sequence[str], str]],
    *,
    output_root: str | Path,
    jobs: int,
    threads: int,
    report: Callable[[str], None],
) -> tuple[list[str], list[str]]:
    """Plan (spec, scale, extra overrides, heading) sweeps into one output root and train what they miss here, up
    to `jobs` runs at once (repro.sweep's local executor). Returns the run ids trained and those failed or skipped."""
    from repro.sweep.run import LocalSweep, run_sweeps_locally  # deferred: submitit, as above

    local = [LocalSweep(spec, scale, tuple(extra), heading=heading) for spec, scale, extra, heading in sweeps]
    plans = run_sweeps_locally(local, output_root=output_root, jobs=jobs, threads=threads, report=report)
    return [rid for plan in plans for rid in plan.submitted], [rid for plan in plans for rid in plan.failed]
