"""A method declares its options once, in its declaration (`MethodDeclaration.Options`, a @schema class: keys, types,
ranges, defaults, the rules that tie them together): every method of METHODS declares its own, each key of its config
file is one of them, load_config refuses a value one of them forbids, the registry reads them from the declaration a
trainer has (never from its bases), and a method with one option, defined in this file alone, is selected, checked
and trained like a built-in one."""

from __future__ import annotations

import pytest
import torch
from omegaconf import OmegaConf

from presets import QUIET
from repro.cli import main
from repro.config import load_config
from repro.config_tree import load_tree, to_container
from repro.errors import UserError
from repro.losses import soft_cross_entropy
from repro.methods import (
    METHODS,
    Method,
    MethodDeclaration,
    NoOptions,
    StepOutput,
    method_class,
    method_declaration,
    method_options,
    optimizer_step,
    register_method,
)
from repro.schema import describe, fields_of, option, schema
from repro.training.step_cost import PLAIN


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_declares_each_key_of_its_config(name):
    cls = method_class(name)
    options = method_options(cls.declaration)  # TypeError when the declaration itself declares none
    assert cls.declaration is method_declaration(name)
    declared = {f.name for f in fields_of(options)}
    node = to_container(load_tree([f"method={name}"]))["method"]
    assert set(node) - {"name"} <= declared, f"method={name}: keys of its config file that {cls.__name__} lacks"
    for doc in describe(options, "method"):  # every key says what it allows (the rule its annotation names)
        assert doc.allowed and doc.allowed != "any value", (name, doc.key)


def test_a_method_without_its_own_declaration_fails():
    class NoOptionsDeclared(MethodDeclaration):
        pass

    class Declared(MethodDeclaration):
        Options = NoOptions

    with pytest.raises(TypeError, match="declares no options"):
        method_options(NoOptionsDeclared)
    assert method_options(Declared) is NoOptions

    class Subclass(Declared):  # a parent's declaration is not the subclass's: it may read other options
        pass

    with pytest.raises(TypeError, match="declares no options"):
        method_options(Subclass)

    class Trainer(Method, declaration=Declared):
        pass

    class ReusesItsStep(Trainer):  # a trainer built on another names its own declaration: none is inherited
        pass

    assert Trainer.declaration is Declared and ReusesItsStep.declaration is None
    with pytest.raises(TypeError, match="has no declaration"):
        register_method("reuses_its_step", ReusesItsStep)


def test_a_trainer_has_the_declaration_that_names_it():
    """The registry reads a method's facts from its declaration; the trainer that declaration names has it, so a
    trainer that reuses another's step (replay: the fixed targets' step) says which declaration is its own."""
    replay = method_class("replay")
    assert replay.declaration is method_declaration("replay") is not method_declaration("baseline")
    assert method_options(replay.declaration) is not method_options(method_declaration("baseline"))
    assert issubclass(replay, method_class("baseline"))  # its step is the fixed targets'
    assert all(not issubclass(method_class(name), MethodDeclaration) for name in METHODS)


@pytest.mark.parametrize(
    "overrides, key",
    [
        (["method=instance_labels", "method.label_lr=0"], "method.label_lr"),
        (["method=mwnet", "method.meta_lr=-1"], "method.meta_lr"),
        (["method=loss_correction", "method.correction=sideways"], "method.correction"),
        (["method=replay", "method.learn.epochs=0"], "method.learn.epochs"),
        (["method=class_labels", "method.record.track_classes=-1"], "method.record.track_classes"),
        (
            ["method=loss_correction", "method.transition=given", "method.matrix=[[0.5,1.5],[1,0]]"],
            r"method.matrix\[0\]\[1\]",
        ),
    ],
)
def test_load_config_refuses_what_a_methods_declaration_forbids(overrides, key):
    with pytest.raises(UserError, match=rf"{key}=.* is not allowed"):
        load_config(overrides)


def test_a_rule_tying_options_together_is_declared_with_them():
    with pytest.raises(UserError, match="Nesterov momentum needs method.meta_momentum > 0"):
        load_config(["method=mwnet", "method.meta_momentum=0"])
    with pytest.raises(UserError, match="method.estimator is set, but method.transition=known"):
        load_config(["method=loss_correction", "noise=uniform", "method.estimator=some-run"])
    with pytest.raises(UserError, match="method.label_lr=-1 .* is not allowed"):  # the fold runs' method, as its own
        load_config(["method=replay", "split=full", 'method.learn.overrides=["method.label_lr=-1"]'])


# -- a method defined in this file alone ------------------------------------------------------------------------


class SoftBootstrappingDeclaration(MethodDeclaration):
    step_cost = PLAIN  # one forward and backward

    @schema
    class Options:
        beta: float = option(default=0.95, ge=0, le=1, why="the given label's weight (Reed et al.: 0.95)")


class SoftBootstrapping(Method, declaration=SoftBootstrappingDeclaration):
    """Reed et al. 2015, soft bootstrapping: the target is beta * the given label + (1 - beta) * the network's own
    prediction (no gradient through it)."""

    def train_step(self, exp, x, y, idx) -> StepOutput:
        logits = exp.model(x)
        given = torch.nn.functional.one_hot(y, logits.shape[1]).to(logits.dtype)
        target = self.options.beta * given + (1 - self.options.beta) * torch.softmax(logits.detach(), dim=1)
        loss = soft_cross_entropy(logits, target)
        optimizer_step(exp.optim.optimizer, loss, epoch=exp.epoch)
        return StepOutput(loss.detach(), logits.detach())


@pytest.fixture
def bootstrapping():
    from hydra.core.config_store import ConfigStore

    register_method("soft_bootstrapping", SoftBootstrapping)
    yield
    METHODS.pop("soft_bootstrapping")
    ConfigStore.instance().repo["method"].pop("soft_bootstrapping.yaml")


@pytest.mark.slow
def test_a_method_with_one_option_from_a_test_file_alone(bootstrapping, tmp_path, capsys):
    cfg = load_config(["method=soft_bootstrapping"])
    assert OmegaConf.to_container(cfg.method) == {"name": "soft_bootstrapping", "beta": 0.95}  # its defaults
    assert load_config(["method=soft_bootstrapping", "method.beta=0.8"]).method.beta == 0.8
    with pytest.raises(UserError, match=r"method.beta=1.5 \(float\) is not allowed: it must be a finite number"):
        load_config(["method=soft_bootstrapping", "method.beta=1.5"])
    assert main(["train", "method=soft_bootstrapping", "method.gamma=2", f"output_root={tmp_path}"]) == 2
    assert "method.gamma" in capsys.readouterr().err  # an option it does not declare: Hydra's unknown key
    argv = ["train", "method=soft_bootstrapping", "method.beta=0.8", "data.subset=200", "data.test_subset=100"]
    argv += ["optim.epochs=1", *QUIET, f"output_root={tmp_path}"]
    assert main(argv) == 0
    (run,) = (tmp_path / "runs").iterdir()
    assert run.name.startswith("digits-smallcnn-soft_bootstrapping-") and (run / "summary.json").exists()
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "soft_bootstrapping" in capsys.readouterr().out  # the registry lists it
