"""The state of every run of an expanded sweep, and what is left to submit.

Takes the planned runs (repro/sweep/expand/), the output root and what the executors report of the runs' latest
jobs; returns a `Plan`: each run's state, the runs to submit, and tables of them. It knows no cluster: the SLURM
executor reports its jobs (repro/sweep/executors/slurm/job_states.py) through `make_plan`'s `job_states`. It knows no
stage either: a planned run carries what its stage decided of it (its label, the run directory it trains), and the
stages' decisions on the plan (repro/sweep/protocol/base.py, `Stage.decide`: the runs a stage holds, a rung's job that
has nothing left to train) come after `make_plan`, then `explain_waits` says why a run cannot start.

A run is done when its summary.json can be read (nothing done is ever submitted again); one whose summary exists
but cannot be read is `damaged` and submitted again (a new attempt; the damaged one is kept, repro/runs/records.py).
Otherwise its latest job, as its executor reports it, decides: queued or running -> left alone; ended, or gone ->
submitted again (it resumes from its checkpoint). A run of a packed job whose process died while the job goes on
with its other runs is failed (or interrupted) at once: its status names that job (repro/sweep/executors/packed.py).
A run never submitted is new, or failed / interrupted if it ran locally.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Collection, Mapping

from tabulate import tabulate

from repro.runs.records import DAMAGED, DONE, read_status, summary_state
from repro.runs.rundir import RunDir
from repro.sweep.spec.model import PlannedRun, Scale, SweepSpec

# held: not submitted, a stage holds it (the baseline gate, the estimated-T hold: repro/sweep/stages/*/)
STATES = ("done", "running", "pending", "failed", "interrupted", "damaged", "new", "unknown", "held")
SUBMITTABLE = ("failed", "interrupted", "damaged", "new")


@dataclass(frozen=True)
class JobState:
    """What an executor reports of a run's latest job: `state` is pending, running, ended (`detail` says how),
    vanished (its executor no longer knows it) or unknown (its executor cannot be asked); `log` its output."""

    job_id: str
    state: str
    detail: str = ""
    log: str = ""


JobStates = Callable[[Collection[str]], Mapping[str, JobState]]  # run ids -> the latest job of those that have one


@dataclass
class RunStatus:
    state: str  # one of STATES
    detail: str = ""  # e.g. the SLURM state, "vanished", the failure message
    job_id: str | None = None  # the latest submission's job
    epoch: int | None = None  # epochs finished (status.json)
    logs: tuple[str, ...] = ()  # train.log, then the job's own log
    left: float | None = None  # epochs still expected to train, where its stage says (a rung's job); None: the rest
    waits: bool = True  # held: until what it waits for is done (exit 4); False: not needed by what was decided


@dataclass(frozen=True)
class DryRun:
    """What a stage prints in `repro sweep --dry-run` (`Decision.dry_run`): its dependency graphs, before the plan's
    GPU-hour estimate; its prices, after it; and its figures as docs/costs.md tabulates them, (column, cell) in
    order (repro/commands/costs_doc.py)."""

    graphs: tuple[str, ...] = ()
    prices: tuple[str, ...] = ()
    figures: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Decision:
    """What a stage said of its decision on a plan (repro/sweep/protocol/base.py, `Stage.decide`): its paragraphs
    (`lines`, printed when it decided), its report of the plan's state (`report`: printed by `repro sweep status`
    and after a local sweep trains, before its `lines`) and, for a dry run, its graphs and prices (`dry_run`). The
    runs it keeps back it marks on the plan (`Plan.hold`), which is what `repro sweep` exits 4 for, whichever
    stage."""

    lines: tuple[str, ...] = ()
    report: tuple[str, ...] = ()
    dry_run: DryRun = DryRun()


@dataclass
class Plan:
    """An expanded sweep with the state of each run (`runs` lists cells; a shared run appears in each of them)."""

    spec: SweepSpec
    output_root: Path
    runs: list[PlannedRun]
    status: dict[str, RunStatus]
    submitted: list[str] = field(default_factory=list)  # run ids submitted (or run locally) by this call
    failed: list[str] = field(default_factory=list)  # run ids that failed when run locally by this call
    scale: Scale | None = None  # the Scale the sweep was expanded at (None: the paper's protocol)
    decisions: dict[str, Decision] = field(default_factory=dict)  # each stage's, by its key, once asked
    # the runs' records where they were read already, or come from elsewhere than their directories (the W&B API):
    # run id -> its record (`state`, its summary's fields); None: each run's summary.json (`result`)
    records: Mapping[str, Mapping[str, Any]] | None = None
    # run id -> the finished run whose records it takes, where a stage decided it (a tuned run that is its winning
    # tuning run: the tuning stage, once its tuning runs are done); the tables report that run's results for it
    takes: dict[str, str] = field(default_factory=dict)

    @cached_property
    def unique(self) -> dict[str, PlannedRun]:
        """One PlannedRun per run id (its first cell), in expansion order (a final after its folds)."""
        return _first_by_id(self.runs)

    @property
    def to_submit(self) -> list[PlannedRun]:
        return [r for rid, r in self.unique.items() if self.status[rid].state in SUBMITTABLE]

    @property
    def done(self) -> set[str]:
        return {rid for rid, st in self.status.items() if st.state == "done"}

    @property
    def held(self) -> set[str]:
        """The runs a stage keeps back until something is done (`hold`): a later local round trains those it lets
        go; while any is held, `repro sweep` and `repro sweep status` exit 4 (repro/sweep/command.py), whichever
        stage holds it. A run held as not needed (`hold(..., waits=False)`) is not among them."""
        return {rid for rid in self.unique if self.status[rid].state == "held" and self.status[rid].waits}

    @property
    def not_needed(self) -> dict[str, str]:
        """Run id -> why, for each run a stage let go as not needed (`hold(..., waits=False)`): what it would be
        trained for was decided without it, so a table counts it neither done nor missing."""
        return {
            rid: self.status[rid].detail
            for rid in self.unique
            if self.status[rid].state == "held" and not self.status[rid].waits
        }

    def result(self, rid: str) -> Mapping[str, Any] | None:
        """A finished run's results: its record (`records`) or its summary.json; None when it is not done."""
        if self.records is not None:
            record = self.records.get(rid)
            return record if record is not None and record.get("state") == DONE else None
        status = self.status.get(rid)
        if status is None or status.state != DONE:
            return None
        return RunDir(self.output_root / "runs" / self.unique[rid].run_dir_id).read_summary()

    def hold(self, rid: str, why: str, *, waits: bool = True) -> None:
        """Keep run `rid` back, a stage's decision (the baseline gate, the estimated-T hold): its state reads held,
        with why; its job id and epoch stay. `waits` False: what it would be trained for is decided without it (the
        until-decided stage's runs of a decided claim line), so the table is complete and nothing waits on it."""
        status = self.status[rid]
        self.status[rid] = RunStatus("held", why, status.job_id, status.epoch, left=status.left, waits=waits)

    def explain_waits(self) -> None:
        """Say why a run cannot start where runs it waits for failed (its tuning runs, say): asked once the stages
        have decided, so a job they settled (a rung's job left behind) is not counted as failed."""
        for rid, run in self.unique.items():
            failed = [d for d in run.depends_on if d in self.status and self.status[d].state == "failed"]
            if failed and self.status[rid].state in SUBMITTABLE and not self.status[rid].detail:
                stages = sorted({self.unique[d].stage for d in failed})
                waits = sum(d in self.status for d in run.depends_on)
                self.status[rid].detail = (
                    f"waits for {len(failed)} failed run(s) of the {waits} it depends on "
                    f"({', '.join(stages)}); they are trained again by the next `repro sweep`"
                )

    @property
    def queued(self) -> dict[str, str]:
        """Run id -> the job id of each run whose job is queued or running."""
        return {rid: st.job_id for rid, st in self.status.items() if st.state in ("running", "pending") and st.job_id}

    def counts(self) -> Counter:
        return Counter(self.status[rid].state for rid in self.unique)

    def summary_table(self) -> str:
        """Per row and stage: how many runs, and how many are done / running / pending / to submit."""
        groups: dict[tuple[str, str], list[str]] = {}
        for rid, run in self.unique.items():
            groups.setdefault((run.row, run.label), []).append(rid)
        header = ["row", "stage", "runs", "done", "running", "pending", "to submit", "unknown"]
        body = []
        for (row, stage), ids in groups.items():
            c = Counter(self.status[rid].state for rid in ids)
            body.append(
                [
                    row,
                    stage,
                    len(ids),
                    c["done"],
                    c["running"],
                    c["pending"],
                    sum(c[s] for s in SUBMITTABLE),
                    c["unknown"],
                ]
            )
        total = self.counts()
        if total["held"]:  # the baseline gate holds runs: a column of their own
            header.append("held")
            for line, ids in zip(body, groups.values()):
                line.append(sum(self.status[rid].state == "held" for rid in ids))
        body.append(
            [
                "total",
                "",
                len(self.unique),
                total["done"],
                total["running"],
                total["pending"],
                sum(total[s] for s in SUBMITTABLE),
                total["unknown"],
                *([total["held"]] if total["held"] else []),
            ]
        )
        return tabulate(body, headers=header, tablefmt="simple")

    def runs_table(self) -> str:
        """One line per run: where it is in the table, its state, and where to look when it failed."""
        body = []
        for rid, run in self.unique.items():
            st = self.status[rid]
            where = run.label + ("" if run.fold is None else f" {run.fold}")
            state = st.state + (f" ({st.detail})" if st.detail else "")
            body.append(
                [
                    run.row,
                    run.column,
                    run.seed,
                    where,
                    rid,
                    state,
                    "" if st.epoch is None else st.epoch,
                    st.job_id or "",
                    "\n".join(st.logs) if st.state in ("failed", "interrupted", "damaged", "unknown") else "",
                ]
            )
        return tabulate(
            body, headers=["row", "column", "seed", "stage", "run", "state", "epoch", "job", "logs"], tablefmt="simple"
        )

    def describe(self) -> str:
        c = self.counts()
        return (
            f"sweep {self.spec.name}: {len(self.unique)} runs in {self.output_root} - {c['done']} done, "
            f"{c['running']} running, {c['pending']} pending, {sum(c[s] for s in SUBMITTABLE)} to submit"
            + (f" ({c['damaged']} damaged: summary unreadable)" if c["damaged"] else "")
            + (f", {c['held']} held by a stage (its paragraph says why)" if c["held"] else "")
            + (f", {c['unknown']} unknown (their executor cannot be asked)" if c["unknown"] else "")
        )


def _first_by_id(runs: list[PlannedRun]) -> dict[str, PlannedRun]:
    out: dict[str, PlannedRun] = {}
    for r in runs:
        out.setdefault(r.run_id, r)
    return out


def make_plan(
    spec: SweepSpec, runs: list[PlannedRun], output_root: str | Path, *, job_states: JobStates | None = None
) -> Plan:
    """Find every run's state from its run directory and its latest job (the stages decide on it after:
    repro/sweep/protocol/base.py, `Stage.decide`). `job_states` is asked only about runs without a summary (the SLURM
    executor's answers, or None where no executor has jobs to report)."""
    output_root = Path(output_root)
    unique = _first_by_id(runs)
    rundirs = {rid: RunDir(output_root / "runs" / run.run_dir_id) for rid, run in unique.items()}
    summaries = {rid: summary_state(rd) for rid, rd in rundirs.items()}
    done = {rid for rid, (state, _) in summaries.items() if state == DONE}
    jobs = job_states([rid for rid in unique if rid not in done]) if job_states is not None else {}
    status = {}
    for rid in unique:
        status[rid] = _run_status(rundirs[rid], rid in done, jobs.get(rid))
        if summaries[rid][0] == DAMAGED and status[rid].state in SUBMITTABLE:
            status[rid] = RunStatus(
                DAMAGED,
                summaries[rid][1] + "; trained again as a new attempt",
                status[rid].job_id,
                status[rid].epoch,
                (str(rundirs[rid].summary_file),),
            )
    return Plan(spec=spec, output_root=output_root, runs=runs, status=status)


def _run_status(rd: RunDir, done: bool, job: JobState | None) -> RunStatus:
    local = read_status(rd)
    epoch = None if local is None else local.get("epoch")
    job_id = None if job is None else job.job_id
    if done:
        return RunStatus("done", job_id=job_id, epoch=epoch)
    logs = tuple(
        p for p in ([str(rd.log_file)] if rd.log_file.exists() else []) + ([job.log] if job and job.log else [])
    )
    if job is not None:
        mine = local or {}
        if job.state == "running" and mine.get("job") == job.job_id and mine.get("state") in ("failed", "interrupted"):
            # ended inside a packed job that goes on with its other runs (repro/sweep/executors/packed.py)
            return RunStatus(mine["state"], f"{mine.get('message', '')}; the job goes on", job_id, epoch, logs)
        if job.state in ("unknown", "pending", "running"):
            return RunStatus(job.state, job.detail, job_id, epoch, logs)
        message = ((local or {}).get("message") or "") if job.state == "ended" else ""  # vanished: no message
        return RunStatus("failed", job.detail + (f": {message}" if message else ""), job_id, epoch, logs)
    if local is None:
        return RunStatus("new")
    state = local.get("state")
    if state == "failed":
        return RunStatus("failed", local.get("message", ""), None, epoch, logs)
    return RunStatus("interrupted", "" if state == "interrupted" else f"status {state}, no job", None, epoch, logs)
