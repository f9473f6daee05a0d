"""Temperature scaling of a teacher's predictions or of converged labels, and the temperature search of Sec. 3.4.

Scaling: `scale_logits(z, T) = softmax(z / T)` (Hinton et al.) and `scale_probabilities(p, T) = p^(1/T)`
renormalised; the two agree, since softmax(z / T) = softmax(z)^(1/T) / sum. T = 1 leaves the distribution as it is;
T = 0 is the limit T -> 0: a one-hot row on the arg-max class (ties: the first such class).

Search (the paper: "the temperature is tuned by searching in the range of [0, 10] with increments of 0.25"): a run
with `method.temperature=search` is the *final* run. Its search runs are its own config with split.full_train=false,
split.fold=0 (train on 80% of the training set, validate on the held-out 20%) and one `method.temperature` of the
grid `method.search` each. When the final starts, it reads their `final_val_acc` (never test accuracy) and trains
the full training set with the best temperature (ties: the smaller T). The final's run id is defined before the
search has run (it hashes `temperature: search`), and the planner derives the same search runs as the final reads.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor

from repro.errors import UserError
from repro.rundir import RunDir

SEARCH = "search"
SELECT_ON = "final_val_acc"  # the search runs' summary key the final selects on (validation, never test)


def scale_logits(logits: Tensor, temperature: float) -> Tensor:
    """softmax(logits / T) row-wise; T = 0: one-hot on the arg-max."""
    if temperature == 0:
        return F.one_hot(logits.argmax(dim=1), logits.shape[1]).to(logits.dtype)
    return F.softmax(logits / temperature, dim=1)


def scale_probabilities(p: Tensor, temperature: float) -> Tensor:
    """p^(1/T) renormalised row-wise (zeros stay zero at every T > 0); T = 0: one-hot on the arg-max."""
    if temperature == 0:
        return F.one_hot(p.argmax(dim=1), p.shape[1]).to(p.dtype)
    log_p = torch.where(p > 0, torch.log(p.clamp_min(torch.finfo(p.dtype).tiny)), torch.full_like(p, -math.inf))
    return F.softmax(log_p / temperature, dim=1)


def check_temperature(value: Any, where: str) -> float | str:
    """A temperature setting: a number T >= 0, or `search`."""
    if value == SEARCH:
        return SEARCH
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise UserError(
            f"{where}={value!r}: the temperature must be a number >= 0 (1 leaves the targets as they are, 0 means the "
            f"arg-max as a one-hot target, larger values soften them), or `{SEARCH}` to pick it on validation "
            "accuracy from the grid method.search. Set e.g. method.temperature=4."
        )
    return float(value)


def search_grid(search: Mapping[str, Any] | None) -> list[float]:
    """The temperatures of `method.search` = {start, stop, step}: start, start + step, ..., up to stop."""
    try:
        start, stop, step = (float(search[k]) for k in ("start", "stop", "step"))  # type: ignore[index]
    except (TypeError, KeyError, ValueError):
        start = stop = step = math.nan
    if not all(math.isfinite(v) for v in (start, stop, step)) or start < 0 or step <= 0 or stop < start:
        raise UserError(
            f"method.search={dict(search) if isinstance(search, Mapping) else search!r}: the temperature grid needs "
            "numbers start >= 0, stop >= start and step > 0, e.g. the paper's method.search={start: 0, stop: 10, "
            "step: 0.25} (41 temperatures)."
        )
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    return [round(start + i * step, 6) for i in range(count)]


def search_overrides(temperature: float) -> list[str]:
    """The key overrides that turn a search final into its search run at `temperature` (the planner's form of
    `search_run_configs`; both set exactly these keys)."""
    return ["split.full_train=false", "split.fold=0", f"method.temperature={float(temperature)!r}"]


def search_run_configs(config: Mapping[str, Any]) -> list[tuple[float, dict]]:
    """(T, resolved config) of every search run of a final whose method.temperature is `search`."""
    runs = []
    for t in search_grid(config["method"].get("search")):
        cfg = copy.deepcopy(dict(config))
        cfg["split"] = {**cfg["split"], "full_train": False, "fold": 0}
        cfg["method"] = {**cfg["method"], "temperature": float(t)}
        runs.append((t, cfg))
    return runs


def choose_temperature(val_acc: Mapping[float, float]) -> float:
    """The temperature with the best validation accuracy; ties go to the smaller temperature."""
    if not val_acc:
        raise UserError("The temperature search has no results to choose from; method.search gives no temperature.")
    return min(val_acc, key=lambda t: (-val_acc[t], t))


def searched_temperature(config: Mapping[str, Any]) -> tuple[float, dict[float, float]]:
    """(chosen T, {T: validation accuracy}) from a search final's finished search runs; a UserError naming every
    search run that is missing or unfinished otherwise (before the final trains anything)."""
    results: dict[float, float] = {}
    problems = []
    for t, cfg in search_run_configs(config):
        rd = RunDir.for_config(cfg)
        summary = rd.read_summary() if rd.is_done() else None
        if summary is None or not isinstance(summary.get(SELECT_ON), (int, float)):
            status = rd.read_status() if rd.status_file.exists() else None
            state = "missing" if status is None else f"{status.get('state')} at epoch {status.get('epoch')}"
            problems.append(f"T={t}: {rd.run_id} ({state})")
            continue
        results[t] = float(summary[SELECT_ON])
    if problems:
        raise UserError(
            f"This run picks its temperature (method.temperature={SEARCH}) from {len(results) + len(problems)} search "
            f"runs, but {len(problems)} are not finished: {'; '.join(problems[:5])}"
            f"{' ...' if len(problems) > 5 else ''}. Run the table's sweep (`repro sweep sweeps/table4.yaml`): it "
            "trains the search runs first; or set method.temperature to a number."
        )
    return choose_temperature(results), results
