"""A method declares its config rules next to its code (`Method.rules`): every method of METHODS declares its own,
each key of its config file is named by one of them, and load_config refuses a value one of them forbids."""

from __future__ import annotations

import fnmatch

import pytest

from repro.config import load_config
from repro.config_tree import load_tree, to_container
from repro.errors import UserError
from repro.methods import METHODS, Method, method_class, method_rules
from repro.validation import Finite, _items


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_declares_rules_for_each_of_its_keys(name):
    cls = method_class(name)
    rules = method_rules(cls)  # TypeError when the class itself declares none
    node = to_container(load_tree([f"method={name}"]))["method"]
    keys = [key for key, _ in _items(node, lambda key: Finite()) if key != "name"]
    # a list is named by a rule on it or on its elements (`learn.overrides.*`)
    unnamed = [
        key for key in keys if not any(fnmatch.fnmatchcase(key, p) or fnmatch.fnmatchcase(key + ".0", p) for p in rules)
    ]
    assert not unnamed, f"method={name}: keys of repro/conf/method/{name}.yaml with no rule in {cls.__name__}.rules"
    missing = [option for option in cls.options if not any(p.split(".")[0] == option for p in rules)]
    assert not missing, f"{cls.__name__}.options without a rule: {missing}"


def test_a_method_without_rules_fails():
    class NoRules(Method):
        options = ("alpha",)

    class EmptyRules(Method):
        rules = {}

    with pytest.raises(TypeError, match="declares no config rules"):
        method_rules(NoRules)
    assert method_rules(EmptyRules) == {}


@pytest.mark.parametrize(
    "overrides, key",
    [
        (["method=instance_labels", "method.label_lr=0"], "method.label_lr"),
        (["method=mwnet", "method.meta_lr=-1"], "method.meta_lr"),
        (["method=loss_correction", "method.correction=sideways"], "method.correction"),
        (["method=replay", "method.learn.epochs=0"], "method.learn.epochs"),
    ],
)
def test_load_config_refuses_what_a_methods_rules_forbid(overrides, key):
    with pytest.raises(UserError, match=rf"{key}=.* is not allowed"):
        load_config(overrides)
