"""Sweep files as a user writes them: what a file may say (rows that need a method not built yet, interpolated
values), and what is refused, the key and the file named, before anything is planned or written; cluster profiles
likewise. The paper's own files and their expansion: test_sweep_spec.py."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from repo_paths import REPO
from repro.config import load_config, to_container
from repro.errors import UserError
from repro.sweep.cluster_profile import load_profile
from repro.sweep.expand.expand import expand_sweep
from repro.sweep.expand.overrides import parse_override, quote_value
from repro.sweep.spec.model import Scale
from repro.sweep.sweep_file import load_sweep


def write(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


TINY = """
    name: tiny
    metric: final_test_acc
    seeds: [0, 1]
    common: [split=full, split.folds=2]
    columns:
      Digits: []
    rows:
      Baseline: [method=baseline]
      Ours (Class):
        learn: [method=class_labels, method.label_lr=1.0]
"""


def test_a_sweep_file_that_is_not_yaml_is_refused_with_its_line_quoted(tmp_path):
    path = write(tmp_path, "rows:\n  Baseline: [method=baseline\nseeds: [0]\n")
    with pytest.raises(UserError, match=r"is not valid YAML") as refused:
        load_sweep(path)
    assert "Baseline: [method=baseline" in str(refused.value)  # the offending line, as PyYAML quotes it


def test_rows_that_need_a_missing_method_plan_nothing(tmp_path):
    path = write(
        tmp_path,
        TINY.replace(
            "      Baseline: [method=baseline]", '      Baseline: [method=baseline]\n      Later: {needs: "a method"}'
        ),
    )
    spec = load_sweep(path)
    assert spec.needs == {"Later": "a method"} and "Later" in spec.rows
    assert {r.row for r in expand_sweep(spec, output_root="out")} == {"Baseline", "Ours (Class)"}
    t5 = expand_sweep(load_sweep(REPO / "sweeps" / "table5.yaml").select(rows=["Baseline"]), output_root="out")
    assert {r.column: r.config["model"]["name"] for r in t5} == {
        "Train=Baseline/Transfer=VGG16": "vgg16",
        "Train=Baseline/Transfer=ResNet18": "resnet18",
        "Train=Baseline/Transfer=AlexNet": "alexnet",
    }


def test_interpolated_override_values_take_the_exact_slow_path(tmp_path):
    path = write(tmp_path, TINY.replace("split.folds=2]", "split.folds=2, 'data.root=/data/${data.name}']"))
    run = expand_sweep(load_sweep(path), output_root=tmp_path)[0]
    assert run.config["data"]["root"] == "/data/digits"
    assert to_container(load_config(list(run.overrides))) == run.config


# --------------------------------------------------------------------------------------------- validation errors


@pytest.mark.parametrize(
    "text, words",
    [
        (TINY + "    colums: {}\n", ["'colums'", "top level"]),
        (TINY.replace("learn:", "lern:"), ["'lern'", "rows.Ours (Class)"]),
        (TINY.replace("metric: final_test_acc", "metric: accuracy"), ["metric='accuracy'", "final_test_acc"]),
        (TINY.replace("seeds: [0, 1]", "seeds: 3"), ["seeds=3"]),
        (TINY.replace("Baseline: [method=baseline]", "Baseline: []"), ["rows.Baseline", "no overrides"]),
        (
            TINY.replace("Baseline: [method=baseline]", "Baseline: {overrides: [method=baseline], columns: [X]}"),
            ["rows.Baseline.columns", "'X'"],
        ),
    ],
)
def test_bad_structure_names_the_key_and_the_file(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(UserError) as err:
        load_sweep(path)
    message = str(err.value)
    assert str(path) in message
    for w in words:
        assert w in message, message


@pytest.mark.parametrize(
    "override, words",
    [
        ("method.labl_lr=0.1", ["'method.labl_lr'", "does not exist"]),
        ("optim.lr.x=1", ["'optim.lr.x'"]),
        ("nonsense=1", ["'nonsense'"]),
        ("model=resnet99", ["model=resnet99", "resnet99"]),
        ("model resnet18", ["'model resnet18'", "cannot parse"]),
        ("+extra=1", ["'+extra=1'", "not a plain"]),
        ("seed=1,2", ["'seed=1,2'", "not a plain"]),
        ("noise.fraction=1.5", ["noise.fraction=1.5"]),
    ],
)
def test_bad_overrides_are_refused_naming_the_key_and_the_file(tmp_path, override, words):
    path = write(tmp_path, TINY.replace("Baseline: [method=baseline]", f"Baseline: [method=baseline, '{override}']"))
    with pytest.raises(UserError) as err:  # refused when the sweep is planned (expanded), before anything is written
        expand_sweep(load_sweep(path), output_root=tmp_path)
    message = str(err.value)
    assert str(path) in message and "Baseline" in message, message
    for w in words:
        assert w in message, message


def test_learn_overrides_must_be_method_keys(tmp_path):
    path = write(tmp_path, TINY.replace("method.label_lr=1.0]", "method.label_lr=1.0, optim.lr=0.1]"))
    with pytest.raises(UserError, match=r"optim.lr=0.1.*not method\.\* keys"):
        expand_sweep(load_sweep(path), output_root=tmp_path)


def test_unknown_rows_columns_seeds_in_a_selection(tmp_path):
    spec = load_sweep(write(tmp_path, TINY))
    with pytest.raises(UserError, match="no row 'Ours'.*'Baseline', 'Ours \\(Class\\)'"):
        spec.select(rows=["Ours"])
    with pytest.raises(UserError, match="no seed 7"):
        spec.select(seeds=[7])
    assert [r.seed for r in expand_sweep(spec.select(rows=["Baseline"], seeds=[1]), output_root="o")] == [1]


def test_scale_must_be_positive():
    with pytest.raises(UserError, match="optim.epochs=0"):
        Scale(epochs=0).overrides()


@pytest.mark.parametrize("value", ["/tmp/a b/c", "123", "it's", "null", "x=y", "a,b", "C:\\dir", "(x)"])
def test_quoted_values_read_back_as_the_same_string(value):
    parsed = parse_override(f"output_root={quote_value(value)}", where="test")
    assert parsed.value == value


# ------------------------------------------------------------------------------------------------ profiles


def test_cluster_profiles_map_to_submitit_parameters(tmp_path):
    local = load_profile(REPO / "slurm" / "profiles" / "local.yaml")
    assert local.submitit_parameters() == {
        "slurm_partition": "debug",
        "cpus_per_task": 1,
        "mem_gb": 1,
        "timeout_min": 60,
        "slurm_array_parallelism": 2,
    }
    gpu = load_profile("example-gpu").submitit_parameters()
    assert gpu["gpus_per_node"] == 1 and gpu["slurm_account"] == "my_account"
    assert gpu["slurm_additional_parameters"] == {"constraint": "v100|a100"}
    bad = write(tmp_path, "partition: gpu\ngpus: 1\n", "bad.yaml")
    with pytest.raises(UserError, match=f"{bad}.*unknown key 'gpus'"):
        load_profile(bad)
