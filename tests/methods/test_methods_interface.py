"""The methods package's contract: every method has a config file and a class behind the one interface, the
loop names none of them, and bad method options are refused before any work."""

from __future__ import annotations

import re

import pytest
from omegaconf import OmegaConf

from presets import QUIET
from repo_paths import REPO
from repro.cli import main
from repro.config import load_config
from repro.errors import UserError
from repro.methods import METHODS, Method, method_class, method_options
from repro.schema import fields_of

METHOD_CONF = REPO / "repro" / "conf" / "method"
BUILT = [
    name
    for name, target in METHODS.items()
    if isinstance(target, str) and (REPO / (target.partition(":")[0].replace(".", "/") + ".py")).exists()
]


def test_every_registered_method_has_a_config_file_and_every_config_a_method():
    confs = {p.stem for p in METHOD_CONF.glob("*.yaml")}
    assert set(BUILT) <= confs
    assert confs <= set(METHODS)
    for name in confs:
        assert OmegaConf.load(METHOD_CONF / f"{name}.yaml").name == name


@pytest.mark.parametrize("name", BUILT)
def test_each_method_class_takes_exactly_the_options_of_its_config(name):
    cls = method_class(name)
    assert issubclass(cls, Method)
    keys = set(OmegaConf.load(METHOD_CONF / f"{name}.yaml")) - {"name"}
    declared = {f.name for f in fields_of(method_options(cls.declaration))}
    assert keys <= declared, f"{name}: config keys {keys - declared} are not declared by {cls.__name__}.Options"


def test_the_training_loop_names_no_method():
    loop = (REPO / "repro" / "train.py").read_text() + (REPO / "repro" / "training" / "experiment.py").read_text()
    for name in METHODS:
        assert not re.search(rf"[\"']{name}[\"']", loop), name
    assert "learnable" not in loop and "isinstance(exp" not in loop


def test_an_option_the_method_does_not_read_is_refused(tmp_path, capsys):
    code = main(["train", "+method.label_lr=3", "optim.epochs=1", *QUIET, f"output_root={tmp_path}"])
    err = capsys.readouterr().err
    assert code == 2 and "method.label_lr" in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # refused before any work


def test_a_meta_set_method_with_the_full_training_set_is_refused():
    with pytest.raises(UserError, match="meta set"):
        load_config(["method=class_labels", "split=full"])


def test_an_unknown_method_name_is_refused():
    with pytest.raises(UserError, match="names no method"):
        method_class("self_paced_learning")


def test_out_of_range_method_options_are_refused_at_config_load(tmp_path, capsys):
    code = main(
        [
            "train",
            "method=coteaching",
            "method.forget_rate=1.5",
            "split=noisy",
            "noise=uniform",
            "noise.fraction=0.4",
            *QUIET,
            f"output_root={tmp_path}",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "forget_rate" in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # refused before the run directory exists


def test_train_help_lists_every_method_config(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    shown = capsys.readouterr().out
    for name in (p.stem for p in METHOD_CONF.glob("*.yaml")):
        assert name in shown, name
