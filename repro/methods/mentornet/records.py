"""A mentor run's files (`method=mentornet_mentor`, mentor_run.py) and how a MentorNet student reads them.

    <run>/mentor/pd.pt        the PD mentor: its network's state (weights only), trained on the enumerated curriculum
    <run>/mentor/dd.pt        the DD mentor, trained on the run's own dump
    <run>/mentor/dump.npy     the dump (float32 rows: sample index, epoch percentage, noisy label, clean label, loss)
    <run>/mentor/mentor.json  the mentors' provenance: what each learned from, its recipe, how well it fits

Every file is written atomically before the run's summary, so a finished mentor run has them all; a student refuses
(one paragraph, before it writes anything) a mentor run that is missing, unfinished, of another method, or whose
files are gone or damaged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from repro.errors import UserError
from repro.methods.mentornet.curricula import Dump
from repro.methods.mentornet.network import MentorNetwork
from repro.runs.finished import find_finished_run
from repro.runs.io import atomic_save_npy, atomic_torch_save, atomic_write_json, read_json
from repro.runs.records import DamagedRecord, read_config, reading
from repro.runs.rundir import RunDir

Curriculum = Literal["pd", "dd"]
CURRICULA: tuple[Curriculum, ...] = ("pd", "dd")
MENTOR_METHOD = "mentornet_mentor"  # the method whose runs train mentors
ROLE = "mentor run"
DUMP_COLUMNS = ("sample", "epoch", "noisy", "clean", "loss")


def mentor_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "mentor"


def mentor_file(run_dir: Path, curriculum: Curriculum) -> Path:
    return mentor_dir(run_dir) / f"{curriculum}.pt"


def record_file(run_dir: Path) -> Path:
    return mentor_dir(run_dir) / "mentor.json"


def dump_file(run_dir: Path) -> Path:
    return mentor_dir(run_dir) / "dump.npy"


def write_mentor(run_dir: Path, curriculum: Curriculum, net: MentorNetwork) -> None:
    atomic_torch_save({"curriculum": curriculum, "state": net.state_dict()}, mentor_file(run_dir, curriculum))


def write_dump(run_dir: Path, samples: torch.Tensor, dump: Dump) -> None:
    columns = [samples, dump.epoch, dump.noisy, dump.clean, dump.loss]
    atomic_save_npy(dump_file(run_dir), torch.stack([c.float() for c in columns], dim=1).numpy())


def read_dump(run_dir: Path) -> tuple[np.ndarray, Dump]:
    """(sample indices, the dump) of a mentor run's dump.npy."""
    rows = np.load(dump_file(run_dir), allow_pickle=False)
    col = {name: torch.from_numpy(rows[:, i].copy()) for i, name in enumerate(DUMP_COLUMNS)}
    dump = Dump(col["epoch"].long(), col["noisy"].long(), col["clean"].long(), col["loss"])
    return col["sample"].long().numpy(), dump


def write_record(run_dir: Path, record: dict[str, Any]) -> None:
    atomic_write_json(record_file(run_dir), record)


def find_mentor_run(ref: Any, output_root: str | Path) -> RunDir:
    """The finished mentor run `ref` names (a run id under <output_root>/runs/ or a run directory), checked to be a
    run of method=mentornet_mentor."""
    if not isinstance(ref, str) or not ref.strip():
        raise UserError(
            "method.mentor is not set: a MentorNet student is weighted by the mentors of a finished "
            f"method={MENTOR_METHOD} run; name it by its run id (under {Path(output_root) / 'runs'}) or its run "
            "directory, e.g. method.mentor=digits-smallcnn-mentornet_mentor-0123456789, or let `repro sweep` set it "
            "from the row's `teacher:` (sweeps/table7.yaml)."
        )
    rd = find_finished_run(ref, output_root, option="mentor")
    method = read_config(rd, role=ROLE)["method"].get("name")
    if method != MENTOR_METHOD:
        raise UserError(
            f"The run {rd.run_id} (method.mentor) is a method={method} run, not a mentor run: a MentorNet student "
            f"reads the mentors a method={MENTOR_METHOD} run trains and stores (repro/conf/method/{MENTOR_METHOD}.yaml"
            "). Name such a run, or let `repro sweep` plan it from the row's `teacher:` (sweeps/mentornet.yaml)."
        )
    return rd


def load_mentor(rd: RunDir, curriculum: Curriculum) -> MentorNetwork:
    """The trained mentor of `curriculum` stored in the finished mentor run `rd`, frozen, on the CPU."""
    path = mentor_file(rd.path, curriculum)
    if not path.exists():
        raise UserError(
            f"The mentor run {rd.run_id} is done but its {curriculum.upper()} mentor {path} is gone, so the student "
            "has nothing to be weighted by. Restore the file, or train the mentor run again (`repro train --rerun "
            "<its overrides>`, or delete its directory and run the sweep again)."
        )
    with reading(rd, path, role=ROLE):
        stored = torch.load(path, map_location="cpu", weights_only=True)
        net = MentorNetwork()
        net.load_state_dict(stored["state"])
    if stored.get("curriculum") != curriculum:
        raise DamagedRecord(rd, path, f"it holds a {stored.get('curriculum')!r} mentor, not {curriculum!r}", role=ROLE)
    return net.eval().requires_grad_(False)


def read_record(rd: RunDir) -> dict[str, Any]:
    """mentor.json of a finished mentor run (DamagedRecord when it cannot be read)."""
    with reading(rd, record_file(rd.path), role=ROLE):
        record = read_json(record_file(rd.path))
        if not isinstance(record, dict):
            raise ValueError("not a mapping")
    return record
