"""A learned-labels cell's runs (`learn:` on its row or column): the 5-fold protocol. Per seed, the final replay run
(method=replay of the learned method, the `final` overrides, split=full) is resolved first, and its fold runs (the
`learn` overrides, split=holdout, split.fold=k) are derived from its config by repro/labels/fold_runs.py: the very
runs it reads when it trains. They are listed first, and the final run depends on them (and on the cell's tuning
runs). A tuned learned cell's tuning runs train as its fold runs do (`fold_base`).

Takes the expansion's cell (repro/sweep/protocol/cell.py, `Cell`: its row, column and overrides, its own, `learn` and
`final` ones among them); returns `PlannedRun`s built by make_run."""

from __future__ import annotations

from dataclasses import replace

from repro.errors import UserError
from repro.labels.fold_runs import fold_configs_with
from repro.sweep.expand.build import COMPOSER, make_run
from repro.sweep.expand.overrides import dedupe, override_value, parse_all, parse_override, quote_value
from repro.sweep.protocol.cell import Cell, Override
from repro.sweep.spec.model import PlannedRun


def fold_base(cell: Cell) -> list[Override]:
    """A learned cell's fold runs' own overrides, before the command line's (its tuning runs train from them)."""
    return [*cell.overrides.own, *cell.overrides.learn, parse_override("split=holdout", where="stage")]


def learned_runs(cell: Cell, seed: int, end: list[Override], depends_on: tuple[str, ...]) -> list[PlannedRun]:
    """The 5-fold protocol of `seed`: the final replay run, resolved first, and the fold runs derived from its config
    (repro/labels/fold_runs.py): the very runs it reads. Listed folds first; `end`: the overrides every run of the
    seed ends with, `depends_on`: the runs each waits for (the cell's tuning runs)."""
    o = cell.overrides
    final_o = [*o.own, *_replay_overrides(o.learn, cell.where), *o.final, parse_override("split=full", where="stage")]
    final_o += end
    final = make_run(cell.row, cell.column, seed, "final", None, final_o, depends_on, cell.where)
    learn = final.config["method"]["learn"]
    learned_o = dedupe(parse_all([f"method={learn['method']}", *(learn.get("overrides") or [])], "method.learn"))
    learned = COMPOSER.compose(learned_o, where=f"{cell.where}: the replay's method.learn")["method"]
    fold_head = fold_base(cell)
    folds = []
    for fold, config in enumerate(fold_configs_with(final.config, learned)):
        fold_o = fold_head + [parse_override(f"split.fold={fold}", where="stage")] + end
        fold_o += _learn_form(learn, learned, config)
        folds.append(make_run(cell.row, cell.column, seed, "fold", fold, fold_o, depends_on, cell.where, config=config))
    return [*folds, replace(final, depends_on=tuple(f.run_id for f in folds) + depends_on)]


def _learn_form(learn: dict, learned: dict, fold_config: dict) -> list[Override]:
    """The overrides a fold run's config takes from its replay's `method.learn` (its epochs, its look-ahead form),
    so that `repro train` with the fold run's overrides gives its config."""
    texts = []
    if learn.get("epochs") is not None:
        texts.append(f"optim.epochs={int(learn['epochs'])}")
    form = fold_config["method"].get("lookahead_weight_decay")
    if form is not None and form != learned.get("lookahead_weight_decay"):
        texts.append(f"method.lookahead_weight_decay={override_value(form)}")
    return parse_all(texts, "method.learn")


def _replay_overrides(learn: tuple[Override, ...], where: str) -> list[Override]:
    """The final run replays what the fold runs learned: method=replay naming their method and method.* overrides."""
    methods = [o.value for o in learn if o.is_group and o.key == "method"]
    if not methods:
        raise UserError(f"{where}: `learn` must select the label-learning method, e.g. learn: [method=class_labels].")
    others = [o for o in learn if not (o.is_group and o.key == "method")]
    bad = [o.text for o in others if not o.key.startswith("method.")]
    if bad:
        raise UserError(
            f"{where}: `learn` overrides {bad} are not method.* keys. The final replay run derives its fold runs "
            "from its own config plus the learned method's method.* overrides, so anything else (data, model, "
            "optim, split, ...) belongs in `overrides:` or `common:`, where it applies to fold and final runs alike."
        )
    method_overrides = list(dict((o.key, o.text) for o in others).values())
    result = [
        parse_override("method=replay", where=where),
        parse_override(f"method.learn.method={quote_value(methods[-1])}", where=where),
        parse_override("method.static=false", where=where),
    ]
    if method_overrides:
        listed = ",".join("'" + t.replace("\\", "\\\\").replace("'", "\\'") + "'" for t in method_overrides)
        result.append(parse_override(f"method.learn.overrides=[{listed}]", where=where))
    return result
