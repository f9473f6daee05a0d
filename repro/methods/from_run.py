"""What distillation and transferred labels share (Sec. 3.4): a student that learns from another finished run
(`source_option` names it), with a temperature (repro.methods.temperature; a sweep's tuning stage may pick it). Its
options are checked at config load (each student's `Options` extends `StudentOptions`,
repro/methods/declarations/students.py), the runs it reads before the run starts (`check_ready`)."""

from __future__ import annotations

from typing import Any, ClassVar

from omegaconf import DictConfig

from repro.config_tree import to_container
from repro.methods.base import Method
from repro.runs.finished import ROLES, check_same_data, find_finished_run
from repro.runs.records import read_config
from repro.runs.rundir import RunDir
from repro.training.protocols import Recorder, When


class LearnsFromRun(Method):
    """Base of the students: subclasses name their declaration (its `source_option`: the option naming the run they
    learn from), set `same_samples` and build their targets."""

    same_samples: ClassVar[bool] = False  # True: the source's labels are indexed by the student's training samples

    @classmethod
    def source_run(cls, cfg: DictConfig) -> RunDir:
        """The finished run this student learns from, checked against the student's data."""
        config = to_container(cfg) if isinstance(cfg, DictConfig) else cfg
        option = str(cls.declaration.source_option)
        rd = find_finished_run(config["method"].get(option), config["output_root"], option=option)
        check_same_data(
            read_config(rd, role=ROLES.get(option, "run")), config, rd=rd, option=option, same_samples=cls.same_samples
        )
        return rd

    @classmethod
    def check_ready(cls, cfg: DictConfig) -> None:
        cls.source_run(cfg)

    def __init__(self, cfg: DictConfig, exp) -> None:
        super().__init__(cfg, exp)
        self.source = self.source_run(exp.cfg)
        self.temperature = float(self.options.temperature)

    def recorders(self, exp) -> list:
        return [TemperatureRecord(self)]


class TemperatureRecord(Recorder):
    """Puts the temperature a student trained with, and its source run, into its summary.json (a tuned temperature
    is also in the summary's `tuned` fields, repro/sweep/stages/tune/tuning.py)."""

    records = "temperature and source_run in the summary"
    when = When.SUMMARY

    def __init__(self, method: LearnsFromRun) -> None:
        self.method = method

    def on_epoch_end(self, exp: Any, epoch: int, row: dict[str, Any], tracker: Any) -> None:
        pass

    def summary(self) -> dict[str, Any]:
        return {"temperature": self.method.temperature, "source_run": self.method.source.run_id}
