"""Which fold runs belong to a run: their configs, derived from the run's own. The one owner of both kinds; the sweep
planner (repro/sweep/expand/) plans exactly these runs, and the runs that read them look them up here.

- The 5-fold protocol's final stage (method=replay, Sec. 3.1, docs/method.md) trains on labels learned by
  `split.folds` fold runs that it never names: its config with the learned method, split.full_train=false,
  split.fold=0..folds-1 (`fold_run_configs`, `fold_configs_with`; the replay run finds them with
  `finished_fold_runs`).
- Out-of-sample probabilities (cleanlab, repro/labels/out_of_sample.py) come from K cross-validation fold runs: the
  run's config with its split replaced by one fold of a K-fold partition (`cross_validation_configs`).
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

from omegaconf import DictConfig

from repro.config_tree import load_tree, to_container
from repro.errors import UserError
from repro.labels.registry import label_kinds, learned_kinds
from repro.runs.records import read_status, read_summary
from repro.runs.rundir import RunDir

# The learned method's node per (method, overrides), composed once per process: a Hydra composition costs about 0.3 s
# of CPU, and every replay run (its training, a transferred-labels student's teacher, each table or figure that finds
# its fold runs) asks for it again; the config files do not change under a running process.
_COMPOSED: dict[tuple[str, tuple[str, ...]], dict] = {}


def learn_method_config(learn: Mapping[str, Any]) -> dict:
    """The `method` node the fold runs were trained with: method group `learn.method` plus `learn.overrides`
    (Hydra overrides of method.* keys, as given to `repro train`); a fresh copy each call."""
    name = learn.get("method")
    overrides = list(learn.get("overrides") or [])
    bad = [o for o in overrides if not str(o).lstrip("+~").startswith("method.")]
    if not name or bad:
        raise UserError(
            f"method.learn must name the label-learning method (method.learn.method=instance_labels or class_labels) "
            f"and may only override method.* keys; got method={name!r}, overrides={overrides}. Example: "
            '\'method.learn.overrides=["method.label_lr=25","method.init_target_prob=0.5"]\' (quoted: Hydra '
            "needs the = inside a list quoted)."
        )
    key = (str(name), tuple(str(o) for o in overrides))
    if key not in _COMPOSED:
        _COMPOSED[key] = to_container(load_tree([f"method={name}", *overrides]))["method"]
    method = copy.deepcopy(_COMPOSED[key])
    kind = label_kinds().get(str(method.get("labels")))
    if kind is None or not kind.learned:
        raise UserError(
            f"method.learn.method={name} does not learn labels (labels={method.get('labels')}); the "
            "replay stage needs method.learn.method=class_labels or instance_labels (a method whose "
            f"labels are of a learned kind: {', '.join(learned_kinds())})."
        )
    return method


def fold_run_configs(config: Mapping[str, Any] | DictConfig) -> list[dict]:
    """The resolved configs of the label-learning fold runs a replay run reads: the replay run's own config with
    the learned method in place of `replay`, split.full_train=false, split.fold = 0..folds-1, and
    optim.epochs = method.learn.epochs when that is set (static replay may train longer than the folds did)."""
    if isinstance(config, DictConfig):
        config = to_container(config)
    method = config["method"]
    if method.get("labels") != "replay":
        raise UserError(
            f"Fold runs are derived from a replay run's config, but this config has "
            f"method={method.get('name')}; add method=replay."
        )
    return fold_configs_with(config, learn_method_config(method.get("learn") or {}))


def fold_configs_with(config: Mapping[str, Any], learned: Mapping[str, Any]) -> list[dict]:
    """The fold runs' configs given the learned method's composed config (the sweep planner composes it its own,
    faster way): the replay config with `learned` as method, split.full_train=false, split.fold = 0..folds-1."""
    learn = config["method"].get("learn") or {}
    learned = _with_lookahead_form(learned, learn)
    folds = int(config["split"]["folds"])
    if folds < 2:
        raise UserError(
            f"split.folds={folds}: the replay stage averages labels over cross-validation folds, so it "
            "needs split.folds >= 2 (the paper uses 5)."
        )
    runs = []
    for fold in range(folds):
        cfg = copy.deepcopy(dict(config))
        cfg["method"] = copy.deepcopy(dict(learned))
        cfg["split"] = {**cfg["split"], "full_train": False, "fold": fold}
        if learn.get("epochs") is not None:
            cfg["optim"] = {**cfg["optim"], "epochs": int(learn["epochs"])}
        runs.append(cfg)
    return runs


def _with_lookahead_form(learned: Mapping[str, Any], learn: Mapping[str, Any]) -> dict:
    """The learned method with the replay config's `learn.lookahead_weight_decay` (the fold runs' look-ahead form),
    so that the replay run's id names it: replay runs of Eq. 3 labels and of the older `wd * theta` form differ."""
    learned = dict(learned)
    if "lookahead_weight_decay" not in learn:
        return learned
    wanted = bool(learn["lookahead_weight_decay"])
    overridden = any(
        str(o).lstrip("+~").split("=", 1)[0] == "method.lookahead_weight_decay" for o in learn.get("overrides") or []
    )
    if overridden and bool(learned.get("lookahead_weight_decay")) != wanted:
        raise UserError(
            f"method.learn.overrides sets method.lookahead_weight_decay={learned.get('lookahead_weight_decay')}, but "
            f"method.learn.lookahead_weight_decay={wanted}: the replay run names its fold runs' look-ahead form in "
            "method.learn.lookahead_weight_decay. Set that key (e.g. method.learn.lookahead_weight_decay=true) and "
            "drop the override."
        )
    learned["lookahead_weight_decay"] = wanted
    return learned


DEFAULT_FOLDS = 5  # cleanlab's CleanLearning default (cv_n_folds=5)


def fold_split(split: Mapping[str, Any], folds: int, fold: int) -> dict:
    """The split of fold run `fold` of `folds`: a partition of the training set (split.seed kept)."""
    if not isinstance(folds, int) or isinstance(folds, bool) or folds < 2:
        raise UserError(
            f"out_of_sample folds={folds!r}: out-of-sample probabilities need at least 2 cross-validation folds "
            f"(cleanlab uses {DEFAULT_FOLDS}); set e.g. `out_of_sample: {{folds: {DEFAULT_FOLDS}}}`."
        )
    return {**split, "meta_fraction": 1.0 / folds, "folds": folds, "fold": fold, "full_train": False}


def cross_validation_configs(config: Mapping[str, Any], folds: int) -> list[dict]:
    """The configs of the `folds` fold runs whose held-out predictions are out-of-sample for `config`'s samples."""
    runs = []
    for fold in range(folds):
        cfg = copy.deepcopy(dict(config))
        cfg["split"] = fold_split(cfg["split"], folds, fold)
        runs.append(cfg)
    return runs


def finished_fold_runs(config: Mapping[str, Any] | DictConfig) -> list[RunDir]:
    """The fold runs' directories, or a UserError naming every fold that is missing or not done."""
    configs = fold_run_configs(config)
    dirs = [RunDir.for_config(c) for c in configs]
    problems = []
    for fold, rd in enumerate(dirs):
        if read_summary(rd, role=f"fold run (fold {fold})") is not None:  # damaged: DamagedRecord, what to do
            continue
        status = read_status(rd)
        state = "missing" if status is None else f"{status['state']} at epoch {status['epoch']}"
        problems.append(f"fold {fold}: {rd.path} ({state})")
    if problems:
        learn = configs[0]["method"]["name"]
        raise UserError(
            f"The replay stage needs all {len(dirs)} label-learning fold runs finished, but {len(problems)} are not: "
            f"{'; '.join(problems)}. Train each of them with the same data/model/optim/noise/seed settings as this "
            f"run and method={learn} (plus method.learn.overrides) split=holdout split.fold=<fold> in the same "
            "output_root (e.g. `repro sweep` the table's learn stage), then run this again."
        )
    return dirs
