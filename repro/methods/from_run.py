"""What distillation and transferred labels share (Sec. 3.4): a student that learns from another finished run
(`source_option` names it), with a temperature that is a number or picked by a search on validation accuracy
(repro.temperature). The checks run at config load (values) and before the run starts (the runs it reads)."""

from __future__ import annotations

from typing import Any, ClassVar

from omegaconf import DictConfig

from repro.errors import UserError
from repro.methods.base import Method
from repro.rundir import RunDir
from repro.temperature import SEARCH, check_temperature, search_grid, searched_temperature
from repro.teachers import check_same_data, find_finished_run


class LearnsFromRun(Method):
    """Base of the students: subclasses set `source_option` and `same_samples` and build their targets."""

    same_samples: ClassVar[bool] = False   # True: the source's labels are indexed by the student's training samples

    @staticmethod
    def check(cfg: DictConfig) -> None:
        if check_temperature(cfg.get("temperature"), "method.temperature") == SEARCH:
            search = cfg.get("search")
            search_grid(None if search is None else {k: search.get(k) for k in ("start", "stop", "step")})

    @classmethod
    def source_run(cls, cfg: DictConfig) -> RunDir:
        """The finished run this student learns from, checked against the student's data."""
        from repro.config import to_container

        config = to_container(cfg) if isinstance(cfg, DictConfig) else cfg
        option = str(cls.source_option)
        rd = find_finished_run(config["method"].get(option), config["output_root"], option=option)
        check_same_data(rd.read_config(), config, rd=rd, option=option, same_samples=cls.same_samples)
        return rd

    @classmethod
    def check_ready(cls, cfg: DictConfig) -> None:
        from repro.config import to_container

        if cfg.method.get("temperature") == SEARCH:
            if not bool(cfg.split.full_train):
                raise UserError(
                    "method.temperature=search belongs to the final run on the full training set (split=full): it "
                    "picks the temperature from search runs on the held-out split. For one search run, set "
                    "method.temperature to a number with split=holdout."
                )
        cls.source_run(cfg)
        if cfg.method.get("temperature") == SEARCH:
            searched_temperature(to_container(cfg))

    def __init__(self, cfg: DictConfig, exp) -> None:
        super().__init__(cfg, exp)
        from repro.config import to_container

        self.source = self.source_run(exp.cfg)
        self.search: dict[float, float] = {}
        if cfg.get("temperature") == SEARCH:
            self.temperature, self.search = searched_temperature(to_container(exp.cfg))
        else:
            self.temperature = float(check_temperature(cfg.get("temperature"), "method.temperature"))

    def recorders(self, exp) -> list:
        return [TemperatureRecord(self)]


class TemperatureRecord:
    """Puts the temperature a student trained with (and, after a search, every searched temperature's validation
    accuracy) into its summary.json, where `repro tables` reads the chosen T of each cell."""

    def __init__(self, method: LearnsFromRun) -> None:
        self.method = method

    def on_epoch_end(self, exp: Any, epoch: int, row: dict[str, Any], tracker: Any) -> None:
        pass

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"temperature": self.method.temperature, "source_run": self.method.source.run_id}
        if self.method.search:
            out["chosen_temperature"] = self.method.temperature
            out["search_val_acc"] = [[t, acc] for t, acc in sorted(self.method.search.items())]
        return out
