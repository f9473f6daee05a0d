"""Paths as users have them (repro/path_keys.py): every path key takes non-ASCII letters, spaces, `=`, brackets and
quotes, given plainly on the command line; a run trains in such an output root, a student names a teacher run
directory there, `repro sweep --output-root` and `repro train -m` plan there; a value Hydra cannot read elsewhere
gets its exact quoted form in the error."""

from __future__ import annotations

import shlex

import pytest
from omegaconf import OmegaConf

from presets import CLEAN, TINY_BASELINE_SWEEP, write_tiny_sweep
from repro.cli import main
from repro.config import load_config
from repro.path_keys import PATH_KEYS, quoted_path, reads_back
from repro.runs.rundir import RunDir

TINY = ["optim.epochs=1", *CLEAN]
AWKWARD = ["/tmp/józef/o", "/tmp/a b/o", "/tmp/x=y/[1]/o", "/tmp/it's {a} (b)/o", "/tmp/日本/ü v/o", "C:\\dir\\"]
# Per path key, the group selections under which it exists. A key added to PATH_KEYS needs its line here.
SELECTIONS = {
    "output_root": [],
    "data.root": ["data=cifar10", "model=resnet18"],
    "method.teacher": ["method=distillation"],
    "method.source": ["method=transferred_labels"],
    "method.estimator": [
        "method=loss_correction",
        "noise=uniform",
        "noise.fraction=0.2",
        "method.transition=estimated",
    ],
}


def test_every_path_key_has_a_case():
    assert set(SELECTIONS) == set(PATH_KEYS)


@pytest.mark.parametrize("key", PATH_KEYS)
@pytest.mark.parametrize("path", AWKWARD)
@pytest.mark.slow
def test_a_path_key_takes_any_path_as_given(key, path):
    cfg = load_config([*SELECTIONS[key], f"{key}={path}"])
    assert OmegaConf.select(cfg, key) == path


@pytest.mark.parametrize("key", PATH_KEYS)
def test_null_stays_null_and_quoted_values_are_kept(key):
    assert quoted_path(f"{key}=null") == f"{key}=null"
    assert quoted_path(f"{key}='/a b/ö'") == f"{key}='/a b/ö'"
    assert reads_back(quoted_path(f"{key}=/a b/ö=[x]").split("=", 1)[1]) == "/a b/ö=[x]"
    assert quoted_path("notes=/a b/ö") == "notes=/a b/ö"  # not a path key: left to Hydra (and its error hint)


@pytest.mark.slow
def test_runs_train_in_an_awkward_output_root_and_a_student_names_its_teacher_there(tmp_path, capsys):
    root = tmp_path / "józef" / "a b=[1]" / "o"
    assert main(["train", *TINY, f"output_root={root}"]) == 0
    (teacher,) = (root / "runs").iterdir()
    assert (teacher / "summary.json").exists()
    assert main(["train", *TINY, "method=distillation", f"method.teacher={teacher}", f"output_root={root}"]) == 0
    student = next(p for p in (root / "runs").iterdir() if p != teacher)
    assert RunDir(student).read_summary()["final_test_acc"] >= 0
    assert "error" not in capsys.readouterr().err


def test_sweep_and_multirun_take_an_awkward_output_root(tmp_path, capsys):
    sweep = write_tiny_sweep(tmp_path, TINY_BASELINE_SWEEP)
    root = tmp_path / "ünï cødé=[2]" / "s"
    scale = ["--epochs", "1", "--subset", "200", "--test-subset", "100"]
    assert main(["sweep", str(sweep), "--output-root", str(root), *scale]) == 0
    assert [p.name for p in (root / "runs").iterdir() if (p / "summary.json").exists()]
    capsys.readouterr()
    assert main(["sweep", "status", str(sweep), "--output-root", str(root)]) == 0
    assert f"1 runs in {root.resolve()} - 1 done" in capsys.readouterr().out
    multi = tmp_path / "mü l=ti"
    assert main(["train", "-m", *TINY, "seed=0,1", f"output_root={multi}", "--dry-run"]) == 0
    assert f"2 runs in {multi.resolve()} " in capsys.readouterr().out


def test_a_path_with_a_comma_is_a_sweep_unless_quoted_and_the_error_says_how(capsys):
    assert main(["train", *TINY, "output_root=/tmp/a,b"]) == 2
    err = capsys.readouterr().err
    assert "\"output_root='/tmp/a,b'\"" in err
    assert OmegaConf.select(load_config(["output_root='/tmp/a,b'"]), "output_root") == "/tmp/a,b"


def test_a_value_hydra_cannot_read_gets_its_exact_quoted_form(capsys):
    assert main(["train", *TINY, "notes=józef a=b"]) == 2
    err = capsys.readouterr().err
    pasted = err.rsplit("for the shell: ", 1)[1].strip()
    (override,) = shlex.split(pasted)  # what the shell passes when the user pastes it
    assert OmegaConf.select(load_config([override]), "notes") == "józef a=b"
