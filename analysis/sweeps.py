"""The sweep files that define the tables and figures, and their results indexes: analysis/'s door into the sweep
package (repro.sweep), so that every table, figure and ledger line chooses its runs the same way.

Takes a directory of sweep files, an output root and the run frame; gives, per table number, the sweep file
(`load_specs`: tableN.yaml, or a file named for its subject that declares `table: N`), the scale and overrides its
last `repro sweep` into that output root ran with (`last_sweep_options`, which the runs' ids depend on), and its
results index (repro/sweep/index.py: the planned runs as the stages decided them, joined to the frame's records;
`SweepIndexes` builds each at most once per command, for all who ask). analysis/tables/, analysis/figures/ and
analysis/ledger/ read their cells from the index and import nothing of repro.sweep but it. `repro demo` runs its
sweeps through `run_locally` here too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import yaml

from analysis.cells import from_wandb
from repro.checkout import shipped_path
from repro.errors import UserError
from repro.runs.yaml_text import load_yaml
from repro.sweep.index import SweepIndex, expanded, index_sweep
from repro.sweep.protocol.registry import follows_seeds_run
from repro.sweep.spec.model import STAGES, PlannedRun, Scale, SweepSpec
from repro.sweep.sweep_file import load_sweep
from repro.sweep.sweep_folder import last_selection

__all__ = [
    "STAGES",
    "PlannedRun",
    "as_swept",
    "Scale",
    "SweepIndex",
    "SweepIndexes",
    "SweepSpec",
    "check_jobs",
    "last_sweep_options",
    "load_specs",
    "never_ran_here",
    "planned_runs",
    "run_locally",
    "sweep_index",
]

_TABLE_FILE = re.compile(r"^table(\d+)\.ya?ml$")


def load_specs(sweeps_dir: str | Path, tables: Sequence[int] | None = None) -> dict[int, Any]:
    """{table number: SweepSpec} from `<sweeps_dir>/tableN.yaml`; all such files when `tables` is None. The default
    `sweeps` (and sweeps/demo, ...) is the package's own when the working directory has none (repro/checkout.py)."""
    sweeps_dir = shipped_path(sweeps_dir)
    files = {int(m.group(1)): p for p in sorted(sweeps_dir.glob("table*.y*ml")) if (m := _TABLE_FILE.match(p.name))}
    files.update({n: p for n, p in _named_table_files(sweeps_dir).items() if n not in files})
    if tables is None:
        wanted = sorted(files)
        if not wanted:
            raise UserError(
                f"No sweep files (tableN.yaml) in {sweeps_dir}: the tables are defined by the sweep files, which "
                "say which runs make each cell. Pass --sweeps-dir pointing at a directory of them (leave it out for "
                "the paper's: sweeps/, which ships with the package)."
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
            number = (load_yaml(path.read_text(encoding="utf-8")) or {}).get("table")
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


def never_ran_here(spec: Any, output_root: str | Path, records: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether none of these runs can be the sweep's, known without expanding it: `repro sweep` never ran it into
    `output_root` (no selection.json), and every record names the sweep that planned it (`sweep.name`, which every
    sweep's runs carry), none this one. A record without a sweep name (`repro train`'s) leaves it open. What lets
    `repro ledger` pass over a claim's sweep file that was never run here (Lukasik et al.'s CIFAR sweeps, beside the
    paper's) without composing its thousands of configs."""
    name = getattr(spec, "name", None)
    if not name or not isinstance(spec, SweepSpec) or last_selection(output_root, name) is not None:
        return False
    planners = [record.get("sweep.name") for record in records.values()]
    return all(isinstance(p, str) and p for p in planners) and name not in planners


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


def planned_runs(
    spec: Any, *, output_root: str | Path, scale: Scale | None = None, extra_overrides: Sequence[str] = ()
) -> list[PlannedRun]:
    """Every run the sweep plans into `output_root` (repro.sweep's expansion, which composes and checks each run's
    config: what costs). A `spec` may be any object with its own `expand(output_root=, scale=, extra_overrides=)`
    (the tests' and benchmarks' stand-ins)."""
    return expanded(spec, output_root=output_root, scale=scale, extra_overrides=extra_overrides)


def sweep_options(
    output_root: str | Path, spec: Any, scale: Scale | None = None, extra_overrides: Sequence[str] | None = None
) -> tuple[Any, Scale | None, list[str]]:
    """(the sweep, the scale, the extra overrides) to expand a table's sweep with: those given, or with neither given
    those its last `repro sweep` into `output_root` ran with (the runs' ids depend on them), at the seeds it ran
    where a stage's plan follows them (`as_swept`)."""
    if scale is None and extra_overrides is None:
        scale, extra = last_sweep_options(output_root, spec)
        return as_swept(output_root, spec, scale), scale, extra
    return spec, scale, list(extra_overrides or [])


def sweep_index(
    spec: Any,
    records: dict[str, dict[str, Any]],
    *,
    output_root: str | Path,
    scale: Scale | None = None,
    extra_overrides: Sequence[str] | None = None,
    runs: list[PlannedRun] | None = None,
) -> SweepIndex:
    """The sweep's results index (repro/sweep/index.py) on the frame's records (`analysis.cells.index_runs`), as
    `sweep_options` says to expand it; a tuned run that took its winner's records is found from the winner's record
    where the records come from W&B (the tuned run logged nothing of its own)."""
    spec, scale, extra = sweep_options(output_root, spec, scale, extra_overrides)
    return index_sweep(
        spec, output_root=output_root, records=records, scale=scale, extra_overrides=extra, taken=from_wandb, runs=runs
    )


class SweepIndexes:
    """The table sweep files of one directory (`load_specs`) indexed on one run frame's records in one output root,
    each built at most once and only when asked for; as its last `repro sweep` there ran it unless `options`
    ({table: (scale, extra overrides)}) says otherwise, or from the runs a command planned already (`planned`:
    {table: runs}, `repro demo`'s sweeps)."""

    def __init__(
        self,
        specs: dict[int, Any],
        records: dict[str, dict[str, Any]],
        output_root: str | Path,
        *,
        options: dict[int, tuple[Scale | None, Sequence[str]]] | None = None,
        planned: dict[int, list[PlannedRun]] | None = None,
        where: str = "",
    ) -> None:
        self.specs, self.records, self.output_root = specs, records, output_root
        self.options, self.planned = dict(options or {}), dict(planned or {})
        self.where = where  # the directory the specs came from, for messages
        self._built: dict[int, SweepIndex] = {}

    def spec(self, table: int) -> Any | None:
        return self.specs.get(table)

    def index(self, table: int) -> SweepIndex | None:
        """Table `table`'s results index (None: no sweep file)."""
        if table not in self._built:
            spec = self.specs.get(table)
            if spec is None:
                return None
            scale, extra = self.options.get(table, (None, None))
            self._built[table] = sweep_index(
                spec,
                self.records,
                output_root=self.output_root,
                scale=scale,
                extra_overrides=None if extra is None else list(extra),
                runs=self.planned.get(table),
            )
        return self._built[table]


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
) -> tuple[list[str], list[str], list[list[PlannedRun]]]:
    """Plan (spec, scale, extra overrides, heading) sweeps into one output root and train what they miss here, up
    to `jobs` runs at once (repro.sweep's local executor). Returns the run ids trained, those failed or skipped, and
    each sweep's planned runs (in the order given: what its results index reads, `SweepIndexes(planned=...)`)."""
    from repro.sweep.run_local import LocalSweep, run_sweeps_locally  # deferred: submitit, as above

    local = [LocalSweep(spec, scale, tuple(extra), heading=heading) for spec, scale, extra, heading in sweeps]
    plans = run_sweeps_locally(local, output_root=output_root, jobs=jobs, threads=threads, report=report)
    trained = [rid for plan in plans for rid in plan.submitted]
    return trained, [rid for plan in plans for rid in plan.failed], [plan.runs for plan in plans]
