"""Finished runs another run reads before it trains (Sec. 3.4: a teacher, a label source; an estimator, a mentor):
find one by its run id or directory, and check that it fits the reader's data. Torch-free, so that a plan can ask
whether a source is ready without loading a network (loading one: repro/runs/teachers.py).

Every check happens before the reader trains (repro.methods `check_method_ready`), so a missing, unfinished or
failed source, or one of another data set, is a one-paragraph error naming the run and what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from repro.errors import UserError
from repro.runs.records import read_status, read_summary
from repro.runs.rundir import RunDir

ROLES = {"teacher": "teacher run", "source": "label-source run", "mentor": "mentor run"}


def find_finished_run(ref: Any, output_root: str | Path, *, option: str) -> RunDir:
    """The finished run `ref` names: a run id under `<output_root>/runs/`, or a run directory."""
    role = ROLES.get(option, "run")
    if not isinstance(ref, str) or not ref.strip():
        raise UserError(
            f"method.{option} is not set: name the {role} to learn from by its run id (a directory name under "
            f"{Path(output_root) / 'runs'}) or by its run directory, e.g. method.{option}=digits-smallcnn-baseline-"
            "0123456789. `repro sweep sweeps/table4.yaml` sets it for every student."
        )
    path = Path(ref).expanduser()
    if not (len(path.parts) > 1 or path.is_absolute()):
        path = Path(output_root) / "runs" / ref
    rd = RunDir(path)
    if not rd.config_file.exists():
        raise UserError(
            f"The {role} {ref!r} (method.{option}) does not exist: {rd.path} holds no run. Train it first (the "
            "table's sweep plans and trains it: `repro sweep sweeps/table4.yaml`), or name an existing run by its id "
            f"under {Path(output_root) / 'runs'} or by its directory."
        )
    if read_summary(rd, role=role) is None:  # a damaged summary: DamagedRecord, saying what to do
        status = read_status(rd) or {}
        state = str(status.get("state") or "not started")
        if state == "failed":
            raise UserError(
                f"The {role} {rd.run_id} (method.{option}) failed ({status.get('message') or 'see its train.log'}), "
                f"so there is nothing to learn from. Fix and re-train it (log: {rd.log_file}), or name another run."
            )
        raise UserError(
            f"The {role} {rd.run_id} (method.{option}) is not finished ({state} at epoch {status.get('epoch', 0)}); "
            "a student learns from finished runs only. Let it finish (re-running its command resumes it) and run "
            "this again; `repro sweep` waits for it by itself."
        )
    return rd


def config_differences(source: Mapping[str, Any], this: Mapping[str, Any], keys: Sequence[tuple[str, str]]) -> str:
    """'data.subset=500 (this run: None), ...' for the (group, key) pairs on which two configs differ; '' if none."""
    diff = [
        (f"{a}.{b}", source.get(a, {}).get(b), this.get(a, {}).get(b))
        for a, b in keys
        if source.get(a, {}).get(b) != this.get(a, {}).get(b)
    ]
    return ", ".join(f"{k}={s!r} (this run: {t!r})" for k, s, t in diff)


def check_same_data(
    source: Mapping[str, Any], student: Mapping[str, Any], *, rd: RunDir, option: str, same_samples: bool
) -> None:
    """The source must be of the student's data set and class count; for labels, of the same training samples."""
    keys = [("data", "name"), ("data", "num_classes")]
    if same_samples:  # labels are indexed by training sample: the same subset of the same data
        keys += [("data", "subset"), ("split", "seed")]
    shown = config_differences(source, student, keys)
    if shown:
        raise UserError(
            f"The {ROLES.get(option, 'run')} {rd.run_id} (method.{option}) does not fit this run: it has {shown}. A "
            "student learns from a run of the same data set and class count"
            + (
                ", and transferred labels need the same training samples (data.subset, split.seed)"
                if same_samples
                else ""
            )
            + "; name a run of this data set, or change this run's data settings to match."
        )
