"""The config tree's compositions (repro/config_tree.py): Hydra composes a set of overrides once per process, every
caller gets its own copy, and what the environment decides is read at every load."""

from __future__ import annotations

import pytest
from hydra.core.config_store import ConfigStore

from repro import config_tree
from repro.config import load_config
from repro.errors import UserError


@pytest.fixture
def counted_compose(monkeypatch):
    """Hydra's compose counted, with no composition kept from before the test (nor after it)."""
    calls: list[list[str]] = []

    def compose(*args, overrides, **kwargs):
        calls.append(list(overrides))
        return hydra_compose(*args, overrides=overrides, **kwargs)

    hydra_compose = config_tree.compose
    monkeypatch.setattr(config_tree, "compose", compose)
    config_tree._composed.cache_clear()
    yield calls
    config_tree._composed.cache_clear()


def test_a_composition_is_made_once_and_each_caller_gets_its_own_copy(counted_compose):
    first = config_tree.compose_config(["method=instance_labels", "seed=3"])
    first.seed = 99
    first.method.label_lr = -1.0
    second = config_tree.compose_config(["method=instance_labels", "seed=3"])
    assert second.seed == 3 and second.method.label_lr != -1.0
    assert config_tree.compose_config(["seed=4"]).seed == 4
    assert counted_compose == [["method=instance_labels", "seed=3"], ["seed=4"]]
    with_hydra = config_tree.compose_config(["seed=4"], hydra_node=True)  # runtime facts: composed anew
    assert "hydra" in with_hydra and len(counted_compose) == 3


def test_the_environment_is_read_at_every_load(counted_compose, monkeypatch):
    monkeypatch.setenv("CIFAR_ROOT", "/data/first")
    assert load_config(["data=cifar10"]).data.root == "/data/first"
    monkeypatch.setenv("CIFAR_ROOT", "/data/second")
    assert load_config(["data=cifar10"]).data.root == "/data/second"
    assert len(counted_compose) == 1


def test_a_bad_override_is_refused_at_every_call(counted_compose):
    for _ in range(2):
        with pytest.raises(UserError, match="optim.no_such_key"):
            config_tree.compose_config(["optim.no_such_key=1"])


def test_a_group_option_stored_or_removed_later_is_composed_as_hydra_composes_it_now(counted_compose):
    """A method registered from outside the package stores its group option in Hydra's ConfigStore (and a test
    removes it again): a composition kept from before is not reused."""
    with pytest.raises(UserError, match="late_option"):
        config_tree.compose_config(["method=late_option"])
    ConfigStore.instance().store(group="method", name="late_option", node={"name": "late_option", "knob": 1})
    try:
        assert config_tree.compose_config(["method=late_option"]).method.knob == 1
    finally:
        ConfigStore.instance().repo["method"].pop("late_option.yaml")
    with pytest.raises(UserError, match="late_option"):
        config_tree.compose_config(["method=late_option"])
