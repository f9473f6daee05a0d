"""What of a config enters its run id is declared on each key (repro/schema/declare.py: `identity=False`,
`neutral=`, `identity_select=`, a node's `identity_excludes`) and read by repro/schema/identity.py: a toy schema
shows each declaration is obeyed, and a hash of what the walk returns moves exactly where the declarations say."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from repro.schema import Slot, identity_config, option, same_value, schema


@schema
class Part:
    kept: int = option()
    added: str = option(default="old", neutral="old")  # a key added after runs existed, "old" what they used
    where: str | None = option(default=None, identity=False)


@schema
class Kind:
    mode: str = option()
    path: str | None = option(default=None, identity=False)


def _kind(node: Any, key: str) -> type:
    return Kind


@schema
class Toy:
    part: Part = option()
    parts: list[Part] = option(default_factory=list)
    chosen: Any = option(select=_kind)
    flag: bool = option(default=False, neutral=False)
    root: str = option(identity=False)
    skip: list[str] = option(default_factory=list)

    @staticmethod
    def identity_excludes(node: Any) -> list[str]:
        return list(node.get("skip") or [])


def _config(**changes: Any) -> dict:
    config = {
        "part": {"kept": 1, "added": "old", "where": "/data"},
        "parts": [{"kept": 2, "where": "/x"}],
        "chosen": {"mode": "a", "path": "/here"},
        "flag": False,
        "root": "/runs",
        "skip": [],
    }
    for dotted, value in changes.items():
        node = config
        *parents, last = dotted.split("__")
        for part in parents:
            node = node[part]
        node[last] = value
    return config


def _hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(identity_config(Toy, config), sort_keys=True).encode()).hexdigest()


def test_a_neutral_key_is_hashed_only_away_from_its_neutral_value():
    base = _hash(_config())
    assert _hash(_config(part__added="old")) == base
    without = _config()
    del without["part"]["added"]  # a config made before the key existed
    assert _hash(without) == base
    assert _hash(_config(part__added="new")) != base
    assert _hash(_config(flag="false")) == base  # a hand-written config's string is the same value
    assert _hash(_config(flag=True)) != base


def test_a_key_declared_out_of_the_identity_never_changes_the_hash():
    base = _hash(_config())
    assert identity_config(Toy, _config()) == {
        "part": {"kept": 1},
        "parts": [{"kept": 2}],
        "chosen": {"mode": "a"},
        "skip": [],
    }
    for change in ({"root": "/other"}, {"part__where": "/else"}, {"chosen__path": "/else"}):
        assert _hash(_config(**change)) == base, change
    assert _hash(_config(part__kept=2)) != base
    assert _hash(_config(chosen__mode="b")) != base


def test_a_node_takes_the_keys_it_names_out_of_the_identity():
    skipping = _config(skip=["part.kept"])
    assert identity_config(Toy, skipping)["part"] == {}
    assert _hash({**skipping, "part": {"kept": 5}}) == _hash(skipping)


def test_a_key_no_declaration_names_is_hashed_as_it_is():
    config = {**_config(), "gone": {"old": 1}}
    assert identity_config(Toy, config)["gone"] == {"old": 1}
    assert _hash(config) != _hash(_config())


def test_a_slot_not_filled_refuses_rather_than_hash_the_node_whole():
    slot = Slot("late", filled_by="the toy's own test")

    @schema
    class Holder:
        late: Any = option(identity_select=slot)

    config = {"late": {"mode": "a", "path": "/p"}}
    with pytest.raises(RuntimeError, match="the toy's own test"):
        identity_config(Holder, config)
    slot.fill(_kind)  # the layer that declares the node, imported
    assert identity_config(Holder, config) == {"late": {"mode": "a"}}


def test_a_key_never_in_the_identity_has_no_neutral_value():
    with pytest.raises(TypeError, match="no neutral value"):
        option(identity=False, neutral=0)


def test_same_value_reads_a_hand_written_string_as_its_value():
    assert same_value(" FP32 ", "fp32") and same_value("None", None) and same_value(0, 0.0)
    assert not same_value("bf16", "fp32") and not same_value(True, False)
