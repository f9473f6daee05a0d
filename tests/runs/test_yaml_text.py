"""A run's config.yaml is read through libyaml (repro/runs/yaml_text.py): the same mapping as PyYAML's pure-Python
safe_load, and the same errors, with the pure-Python loader's message (it quotes the line)."""

from __future__ import annotations

import math

import pytest
import yaml

from repro.config import load_config
from repro.config_tree import to_container
from repro.runs.yaml_text import load_yaml

AWKWARD = {
    "data": {"name": "cifar10", "root": "/data/${data.name}", "subset": None, "classes": ["0", "yes", "1e3", "~"]},
    "optim": {"lr": 1e-5, "milestones": [60, 120], "decay": 0.0005, "big": 12345678901234567890, "flag": True},
    "method": {"name": "ours: instance", "note": "ü – unicode, a 'quote' and a \"double\" one " * 4, "empty": {}},
    "model": {"name": "resnet18", "inf": math.inf, "neg": -math.inf, "list": [[1, 2], {"a": []}]},
}


@pytest.mark.parametrize("config", [AWKWARD, to_container(load_config(["method=instance_labels", "output_root=o"]))])
def test_the_mapping_is_pyyamls_own(config):
    text = yaml.safe_dump(config, sort_keys=False)  # as RunDir.write_config writes it
    assert load_yaml(text) == yaml.safe_load(text) == config
    assert math.isnan(load_yaml(yaml.safe_dump({"x": math.nan}))["x"])


def test_bad_yaml_raises_pyyamls_error():
    with pytest.raises(yaml.YAMLError):
        load_yaml("a: [1, 2\nb: }")
    with pytest.raises(yaml.YAMLError):  # safe: no Python objects
        load_yaml("!!python/object/apply:os.system ['true']")


def test_a_refused_text_gets_the_message_that_quotes_the_line():
    with pytest.raises(yaml.YAMLError) as refused:
        load_yaml("rows:\n  a: [1, 2\nb: 3\n")
    with pytest.raises(yaml.YAMLError) as pure:
        yaml.safe_load("rows:\n  a: [1, 2\nb: 3\n")
    assert str(refused.value) == str(pure.value) and "a: [1, 2" in str(refused.value)
