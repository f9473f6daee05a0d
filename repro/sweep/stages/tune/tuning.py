"""A tuned run picks its hyperparameters from finished tuning runs when it starts (the paper: "All hyper-parameters
were tuned on a single cross validation fold"; the sweep file's `tune:` stage, repro/sweep/stages/tune/tune_spec.py).

The tuned run's config names what is tuned and where, never the result:

    tune:
      keys: [method.label_lr, method.init_target_prob]
      runs: [{run: <tuning run id>, values: [25, 0.3]}, ...]    # one per grid point and tuning seed
      select: final_val_acc
      chosen: null                                              # filled in when the run starts

So its run id (`tune` minus `chosen`, not the tuned keys' own values: repro/conf/sweep_nodes.py) is fixed before
any
tuning run has trained, and a re-plan finds the same runs. When it starts, `apply` reads every tuning run's summary
(all must be done: a tuned run never trains on a partial search), averages the `select` metric over seeds per grid
point, takes the best, and writes the winner into the tuned keys (those the run's method has: a replay final only
records them, its fold runs trained with them) and into `tune.chosen`. Ties go to the grid's first point in the
sweep file's order (the first key varies slowest): deterministic, and the file's author puts the conservative value
first (for the temperature grid [0, 10] that is the smaller T, as before).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from repro.conf.sweep_nodes import UNTUNED, tuned_keys
from repro.errors import UserError
from repro.runs.records import read_status, read_summary
from repro.runs.rundir import RunDir, run_id
from repro.sweep.stages.tune import halving
from repro.sweep.stages.tune.tune_warnings import tuning_warnings

# Summary keys a tuning stage may select on: validation only. Test metrics are refused where the stage is declared.
SELECT_METRICS = ("final_val_acc", "best_val_acc")


def results(config: Mapping[str, Any]) -> list[tuple[tuple[Any, ...], float, list[str]]]:
    """(grid point, mean of `select` over its seeds, its run ids) in the config's order; a UserError naming every
    tuning run that is not done (before the tuned run writes anything)."""
    tune = config["tune"]
    select = str(tune.get("select") or UNTUNED["select"])
    root = Path(config["output_root"]) / "runs"
    points: dict[tuple, tuple[list[float], list[str]]] = {}
    problems = []
    entries = tune.get("runs") or []
    if tune.get(
        "halving"
    ):  # successive halving: the points that trained to the last rung (repro/sweep/stages/tune/halving.py)
        finalists = halving.finalists(config)
        entries = [e for e in entries if tuple(e["values"]) in finalists]
    for entry in entries:
        rd = RunDir(root / str(entry["run"]))
        point = tuple(entry["values"])
        if len(point) != len(tune["keys"]):
            raise UserError(
                f"tune.runs lists {rd.run_id} with values {list(point)} for the keys {tune['keys']}: one "
                "value per key is needed. `repro sweep` writes this node; do not edit it by hand."
            )
        summary = read_summary(rd, role="tuning run")  # a damaged one: DamagedRecord, saying what to do
        value = None if summary is None else summary.get(select)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            status = read_status(rd)
            state = (
                "missing"
                if status is None
                else f"{status.get('state')} at epoch {status.get('epoch')}"
                if summary is None
                else f"done, but its summary has no {select}"
            )
            problems.append(f"{_point_text(tune['keys'], point)}: {rd.run_id} ({state})")
            continue
        scores, ids = points.setdefault(point, ([], []))
        scores.append(float(value))
        ids.append(rd.run_id)
    if problems:
        raise UserError(
            f"This run takes {', '.join(tune['keys'])} from {len(tune.get('runs') or [])} tuning runs, but "
            f"{len(problems)} are not done: {'; '.join(problems[:5])}{' ...' if len(problems) > 5 else ''}. Run the "
            "sweep that planned it (`repro sweep FILE`: tuning runs train first, failed ones are trained again); "
            "`repro sweep status FILE` shows their logs."
        )
    if not points:
        raise UserError("tune.keys is set but tune.runs lists no tuning run; set both (repro sweep does) or neither.")
    return [(p, halving.mean_score(s), ids) for p, (s, ids) in points.items()]


def choose(scored: list[tuple[tuple[Any, ...], float, list[str]]]) -> tuple[Any, ...]:
    """The best mean score; ties: the first point in grid order."""
    best = max(score for _, score, _ in scored)
    return next(point for point, score, _ in scored if score == best)


def with_point(config: Mapping[str, Any], point: tuple[Any, ...]) -> dict:
    """The config with a grid point's values in its tuned keys (those the run's method has). Only the nodes on the
    tuned keys' paths are copied, the rest is shared with `config` (a sweep asks this of every tuned run for its
    tuning runs' ids: a whole copy each time was a fifth of planning a tuned table)."""
    out = dict(config)
    for key, value in zip(tuned_keys(config), point):
        node: Any = out
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.get(part) if isinstance(node, dict) else None
            if isinstance(child, dict):
                child = node[part] = dict(child)  # this node is the copy's own: the key below it changes
            node = child
        if isinstance(node, dict) and parts[-1] in node:
            node[parts[-1]] = value
    return out


def apply(config: Mapping[str, Any]) -> dict:
    """The config the run trains with: the winner in the tuned keys and tune.chosen (unchanged when nothing is
    tuned). The run id is the same before and after (repro/runs/rundir.py)."""
    if not tuned_keys(config):
        return dict(config)
    chosen = choose(results(config))
    out = with_point(config, chosen)
    out["tune"] = {**out["tune"], "chosen": list(chosen)}
    return out


def same_training(config: Mapping[str, Any]) -> dict[tuple[Any, ...], str]:
    """{grid point: the tuning run that is this tuned run's very training, were that point chosen}: the tuning run
    whose id is the run id of this config with the point's values and no tuning. A tuning stage on the run's own
    split (`where: []`), seed and epochs has one per point for each of its seeds; the run then takes the winner's
    records instead of training (repro/runs/adopt.py), and the sweep prices it at nothing."""
    same: dict[tuple[Any, ...], str] = {}
    for point, runs in _entries(config).items():
        own = _untuned_id(config, point)
        if own in runs:
            same[point] = own
    return same


def reuses_tuning_run(config: Mapping[str, Any]) -> bool:
    """Whichever point wins, the tuned run is one of its tuning runs (see `same_training`): it trains nothing.
    Decided point by point, stopping at the first point that is another training (most tuned runs: the first)."""
    entries = _entries(config)
    return bool(entries) and all(_untuned_id(config, point) in runs for point, runs in entries.items())


def _entries(config: Mapping[str, Any]) -> dict[tuple[Any, ...], list[str]]:
    """{grid point: its tuning runs (one per tuning seed)}, in grid order; empty for a run that tunes nothing."""
    if not tuned_keys(config):
        return {}
    entries: dict[tuple[Any, ...], list[str]] = {}
    for entry in config["tune"].get("runs") or []:
        entries.setdefault(tuple(entry["values"]), []).append(str(entry["run"]))
    return entries


def _untuned_id(config: Mapping[str, Any], point: tuple[Any, ...]) -> str:
    """The run id of this config trained at `point` with no tuning: a tuning run's id, if it is this very training."""
    return run_id({**with_point(config, point), "tune": {**UNTUNED, "chosen": None, "halving": None}})


def summary_fields(config: Mapping[str, Any]) -> dict[str, Any]:
    """What a tuned run's summary.json (and provenance.json) records: the chosen values, how they were chosen and
    from which runs. Empty when nothing was tuned."""
    keys = tuned_keys(config)
    chosen = (config.get("tune") or {}).get("chosen")
    if not keys or chosen is None:
        return {}
    scored = results(config)

    warnings = tuning_warnings(config, scored, tuple(chosen))
    strategy = halving.strategy_text(config)
    return {
        "tuned": _point_text(keys, tuple(chosen)) + ("" if strategy == "grid" else " (by halving)"),
        "tune_strategy": strategy,  # grid, or successive halving's rungs (repro/sweep/stages/tune/halving.py)
        "tune_warnings": warnings,  # the grid may have missed (repro/sweep/stages/tune/tune_warnings.py)
        "tune_warning": "; ".join(warnings),  # the same as one string: W&B's summary takes no lists
        "tune_chosen": dict(zip(keys, chosen)),
        "tune_select": config["tune"]["select"],
        "tune_scores": [[list(p), s, ids] for p, s, ids in scored],
        "tune_runs": [str(e["run"]) for e in config["tune"]["runs"]],
        **({"tune_rungs": halving.rungs_record(config)} if strategy != "grid" else {}),
        # the same as one string (W&B's summary takes no lists): each rung's leader and first point out
        **(
            {"tune_rungs_text": halving.rungs_text(config, lambda p: _point_text(keys, tuple(p)))}
            if strategy != "grid"
            else {}
        ),
    }


def _point_text(keys: list[str], point: tuple[Any, ...]) -> str:
    return ", ".join(
        f"{k.split('.')[-1]}={v:g}" if isinstance(v, float) else f"{k.split('.')[-1]}={v}" for k, v in zip(keys, point)
    )


point_text = _point_text  # "label_lr=25, init_target_prob=0.5" (repro/sweep/stages/tune/tune_report.py)
