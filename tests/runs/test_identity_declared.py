"""Every key the run id once special-cased in tables of its own (repro/runs/rundir.py, before the schema said it) is
declared so on its own declaration: the keys never in the run id with `identity=False`, the keys added after runs
existed with `neutral=` the value those runs trained with. A declaration that lost its word would change old run ids
(tests/methods/test_method_pins.py catches that for the pinned configs; this names the key)."""

from __future__ import annotations

from typing import Any

import pytest

from repro.conf.networks import NETWORKS
from repro.conf.schema import UNTUNED, Run, Tune
from repro.config import load_config, to_container
from repro.data.noise import NOISE_MODELS, noise_options
from repro.methods import METHODS, method_declaration, method_options
from repro.runs.rundir import run_id
from repro.schema import fields_of
from repro.schema.declare import Field

# What rundir.py's tables held, with the node each key is declared on.
NEVER_HASHED = [
    "tracker",
    "output_root",
    "progress",
    "sweep",
    "eval_batch_size",
    "device",
    "channels_last",
    "notes",
    "memorisation_samples",
    "halving",
    "data.root",
    "noise.file",
    "tune.chosen",
]
HASHED_UNLESS = {
    "precision": "fp32",
    "deterministic": False,
    "compile_jvp": False,
    "tune": {"keys": [], "runs": [], "select": "final_val_acc"},  # `chosen` aside: never hashed
    "optim.lr_floor": 0.0,
    "optim.lookahead_lr": "current",
    "tune.halving": None,
    "split.held_out_labels": "clean",
    "method.estimate_at": "final",
    "method.probability_clip": None,
}
# The nodes picked by a kind, at the kinds that have the key.
KINDS = {"noise": {"kind": "cifar_n"}, "method": {"name": "loss_correction"}}


def _schema_of(field: Field, key: str) -> type:
    if field.node is not None:
        return field.node
    if field.name == "method":
        return method_options(method_declaration(KINDS["method"]["name"]))
    assert field.select is not None, key
    return field.select(KINDS[key], key)


def _declared(dotted: str) -> Field:
    cls, parts = Run, dotted.split(".")
    for i, part in enumerate(parts):
        field = {f.name: f for f in fields_of(cls)}[part]
        if i == len(parts) - 1:
            return field
        cls = _schema_of(field, ".".join(parts[: i + 1]))
    raise AssertionError(dotted)


@pytest.mark.parametrize("key", NEVER_HASHED)
def test_a_key_that_never_changes_results_is_declared_out_of_the_run_id(key):
    field = _declared(key)
    assert not field.identity and not field.has_neutral


@pytest.mark.parametrize("key", sorted(HASHED_UNLESS))
def test_a_key_added_after_runs_existed_declares_the_value_they_trained_with(key):
    field = _declared(key)
    assert field.identity and field.has_neutral and field.neutral == HASHED_UNLESS[key]
    assert type(field.neutral) is type(HASHED_UNLESS[key])


def test_untuned_is_the_tune_node_as_the_run_id_sees_it():
    assert _declared("tune").neutral is UNTUNED
    assert Tune.identity_excludes({"keys": ["method.label_lr", "optim.lr"]}) == ["method.label_lr", "optim.lr"]


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_declares_its_option_added_after_runs_existed(name: str):
    """The run id once left `method.estimate_at: final` and `method.probability_clip: null` out of any method's node;
    a method that declares either option declares the same neutral value."""
    fields: dict[str, Any] = {f.name: f for f in fields_of(method_options(method_declaration(name)))}
    for key in ("estimate_at", "probability_clip"):
        if key in fields:
            assert fields[key].has_neutral and fields[key].neutral == HASHED_UNLESS[f"method.{key}"], (name, key)


def test_the_noise_file_is_out_of_the_run_id_for_every_model_that_reads_one():
    for kind in NOISE_MODELS:
        fields = {f.name: f for f in fields_of(noise_options({"kind": kind}))}
        if "file" in fields:
            assert not fields["file"].identity, kind


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_every_network_key_is_neutral_at_the_width_runs_trained_with_before_it_was_a_key(name: str):
    """A network's width (WRN's depth) became a key after runs existed: at its default it leaves the run id as it
    was (the config files set the default), and any other value gives another run."""
    keys = [f for f in fields_of(NETWORKS[name]) if f.name != "name"]
    assert keys, name
    for field in keys:
        assert field.identity and field.has_neutral and field.neutral == field.default_value(), (name, field.name)
    base = load_config([f"model={name}"])
    same = load_config([f"model={name}", *(f"model.{f.name}={f.default_value()}" for f in keys)])
    other = load_config([f"model={name}", f"model.{keys[0].name}={keys[0].default_value() + 6}"])  # WRN: 6n + 4
    node = {"name": name}  # the model node of a run made before the keys existed
    older = {**to_container(base), "model": node}
    assert run_id(to_container(base)) == run_id(to_container(same)) == run_id(older)
    assert run_id(to_container(other)) != run_id(to_container(base))
