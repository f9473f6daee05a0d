"""The typed declarations (repro/schema/): a field's annotation and bounds give its rule, a node is refused for an
unknown key, a missing key, a value its rule forbids or a rule tying keys together, each with the one-paragraph
error every config value gives; the run's config tree is declared key by key (repro/conf/schema.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from repro.conf.networks import network_schema
from repro.conf.schema import Run
from repro.config import load_config, to_container
from repro.errors import UserError
from repro.schema import SweepFile, build, check_node, describe, option, schema


@schema
class Inner:
    ratio: float = option(gt=0, lt=1)


@schema
class Example:
    count: int = option(ge=1, why="how many")
    rate: float | None = option(gt=0, hint="null: the default rate")
    mode: Literal["a", "b"] = option()
    auto: Literal["auto"] | float = option(ge=0)
    flags: list[bool] = option(default_factory=list)
    inner: Inner = option()
    name: str = option(default="x")

    def check(self) -> None:
        if self.mode == "b" and self.rate is None:
            raise UserError("mode=b needs a rate.")


GOOD = {"count": 2, "rate": None, "mode": "a", "auto": "auto", "inner": {"ratio": 0.5}}


@pytest.mark.parametrize(
    "change, says",
    [
        ({"count": 0}, "example.count=0 (int) is not allowed: it must be an integer >= 1."),
        ({"count": True}, "example.count=true (bool) is not allowed"),
        ({"count": 2.0}, "example.count=2.0 (float) is not allowed"),
        ({"rate": float("nan")}, "it must be a finite number > 0 or null (null: the default rate)."),
        ({"rate": 0}, "example.rate=0 (int) is not allowed"),
        ({"mode": "c"}, "it must be one of 'a', 'b'."),
        ({"auto": -1}, "it must be 'auto' or a finite number >= 0."),
        ({"flags": [True, "yes"]}, 'example.flags[1]="yes" (str) is not allowed: it must be true or false.'),
        ({"flags": True}, "it must be a list of values each true or false"),
        ({"inner": {"ratio": 1}}, "example.inner.ratio=1 (int) is not allowed: it must be a finite number in (0, 1)."),
        ({"inner": {"ratio": 0.5, "extra": 1}}, "example.inner.extra is not a key of example.inner here"),
        ({"surprise": 1}, "example.surprise is not a key of example here; it takes auto, count, flags"),
        ({"mode": "b"}, "mode=b needs a rate."),
    ],
)
def test_a_node_is_refused_with_one_paragraph(change, says):
    with pytest.raises(UserError) as info:
        check_node(Example, {**GOOD, **change}, "example")
    assert says in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "change",
    [{"count": 0}, {"inner": {"ratio": 0.5, "extra": 1}}, {"inner": 3}, {"count": None}],
)
def test_a_sweep_files_key_is_refused_in_that_files_words_a_configs_in_the_configs(change):
    """The same node and the same fault: a config's error says how to fix the config (an override, the config file),
    a sweep file's key's names the file and says to fix the key there (repro/sweep/stages/)."""
    node = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    with pytest.raises(UserError) as config:
        check_node(Example, node, "example")
    with pytest.raises(UserError) as sweep:
        check_node(Example, node, "rows.A.example", source=SweepFile(Path("/s/sweep.yaml")))
    assert "sweep file /s/sweep.yaml" in str(sweep.value) and "repro train" not in str(sweep.value)
    assert str(sweep.value).endswith("Fix the key there. Nothing was run or written.")
    assert "sweep file /s/sweep.yaml" not in str(config.value) and "\n" not in str(sweep.value)
    assert "rows.A.example" in str(sweep.value)


def test_a_missing_key_is_named_and_a_default_fills_a_left_out_one():
    with pytest.raises(UserError, match="example.count is missing"):
        check_node(Example, {k: v for k, v in GOOD.items() if k != "count"}, "example")
    check_node(Example, GOOD, "example")
    built = build(Example, GOOD)
    assert built.name == "x" and built.flags == () and built.inner.ratio == 0.5 and built.auto == "auto"


def test_values_are_never_converted():
    """1 stays an int in a float field (the run id hashes it as typed), and "yes" is no bool."""
    built = build(Example, {**GOOD, "rate": 1})
    assert built.rate == 1 and type(built.rate) is int


def test_a_field_whose_annotation_names_no_rule_fails_at_declaration():
    with pytest.raises(TypeError, match="names no rule"):

        @schema
        class Unclear:
            value: dict = option()


def test_describe_lists_every_key_with_what_it_allows():
    docs = {d.key: d for d in describe(Example, "example")}
    assert docs["example.count"].allowed == "an integer >= 1" and docs["example.count"].why == "how many"
    assert docs["example.inner.ratio"].allowed == "a finite number in (0, 1)"
    assert docs["example.name"].default == "x" and not docs["example.name"].required


def test_the_default_config_is_declared_key_by_key():
    tree = to_container(load_config([]))
    check_node(Run, tree, "", skip=("method",))
    declared = {d.key for d in describe(Run)} | {
        d.key for d in describe(network_schema(tree["model"], "model"), "model")
    }
    for group in ("data", "model", "optim", "split"):
        for key in tree[group]:
            assert f"{group}.{key}" in declared, (group, key)


@pytest.mark.parametrize(
    "overrides, says",
    [
        (["optim.milestones=0.5"], "optim.milestones=0.5 (float) is not allowed: it must be a list of finite numbers"),
        (["split.folds=2", "split.meta_fraction=0.6"], "the folds' meta sets would overlap"),
        (["optim=setting_a", "optim.warmup_epochs=2"], "an iteration-based schedule has no warm-up in epochs"),
        (["tracker.mode=sometimes"], 'tracker.mode="sometimes" (str) is not allowed'),
        (["tracker=none", "tracker.kind=comet"], 'tracker.kind="comet" (str) is not allowed'),
        (["tune.select=final_test_acc"], 'tune.select="final_test_acc" (str) is not allowed'),
    ],
)
def test_load_config_refuses_what_a_group_declaration_forbids(overrides, says):
    with pytest.raises(UserError) as info:
        load_config(overrides)
    assert says in str(info.value)


def test_the_data_and_model_choices_are_what_the_code_builds():
    from repro.conf.schema import _group_options
    from repro.data.datasets import DATASET_NAMES
    from repro.models import MODEL_NAMES

    assert set(_group_options("data")) == set(DATASET_NAMES)
    assert set(_group_options("model")) == set(MODEL_NAMES)
