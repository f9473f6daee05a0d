"""A label parametrisation is one class registered by name (repro/labels/registry.py). Proof: a new kind defined in
this file alone, registered, runs the 5-fold protocol (two folds learn, the final replays their average) on digits,
and every stage used it: its fold runs recorded it, the averaged trajectory is of its kind, the final replayed it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from torch import Tensor

from presets import QUIET
from repo_paths import REPO
from repro.errors import UserError
from repro.labels import LABEL_KINDS, ClassLabels, build_labels, label_kind, register_label_kind
from repro.labels.fold_average import AveragedTrajectory, trajectory_cache_dir
from repro.labels.kinds import ClassKind
from repro.labels.registry import Panel, kinds_drawing
from repro.labels.trajectory import read_class_trajectory, read_manifest
from repro.runs.rundir import RunDir
from repro.sweep.run import run_sweep
from repro.sweep.spec.model import Scale


class SharedLabels(ClassLabels):
    """Label smoothing with ONE learned smoothing parameter shared by every class: the class-label gradient summed
    over classes moves all of them together, so every class keeps the same target probability."""

    def alpha_gradient(self, y: Tensor, grad_p: Tensor) -> Tensor:
        per_class = super().alpha_gradient(y, grad_p)
        return torch.full_like(per_class, float(per_class.sum()))


class SharedKind(ClassKind):
    """Records, averages and replays like class labels (its trajectory is [E, C]); builds SharedLabels."""

    name = "shared"

    @classmethod
    def build(cls, *, num_samples: int, num_classes: int, targets: Tensor, dtype: torch.dtype, **options):
        return SharedLabels(num_classes, options["init_target_prob"], options["lr"], dtype=dtype)


@pytest.fixture
def shared_kind():
    register_label_kind(SharedKind)
    yield SharedKind
    LABEL_KINDS.pop(SharedKind.name, None)


SWEEP = """
    name: shared-labels
    metric: final_test_acc
    seeds: [0]
    common: [data=digits, model=smallcnn, split=full, split.folds=2]
    columns:
      Digits/SmallCNN: []
    rows:
      Ours (Shared):
        learn: [method=class_labels, method.labels=shared, method.label_lr=3]
"""


@pytest.mark.slow
def test_a_kind_registered_in_a_test_file_runs_learn_and_replay(shared_kind, tmp_path):
    path = tmp_path / "shared.yaml"
    path.write_text(textwrap.dedent(SWEEP))
    out = tmp_path / "out"
    scale = Scale(epochs=1, subset=300, test_subset=100)
    plan = run_sweep(path, output_root=out, scale=scale, extra_overrides=QUIET, report=lambda _: None)
    assert plan.failed == [] and plan.counts() == {"done": 3}
    folds = sorted((r for r in plan.unique.values() if r.stage == "fold"), key=lambda r: r.fold)
    final = next(r for r in plan.unique.values() if r.stage == "final")
    assert len(folds) == 2
    for fold in folds:
        rd = RunDir(out / "runs" / fold.run_id)
        assert rd.read_config()["method"]["labels"] == "shared"
        assert read_manifest(rd)["kind"] == "shared"
        traj = read_class_trajectory(rd)
        assert traj.shape == (1, 10) and np.ptp(traj[-1]) < 1e-6  # one shared parameter...
        assert not np.allclose(traj[-1], 0.9)  # ...that was learned (init_target_prob 0.9)
    final_rd = RunDir(out / "runs" / final.run_id)
    assert final_rd.read_config()["method"]["name"] == "replay" and final_rd.read_summary() is not None
    fold_ids = [f.run_id for f in folds]
    averaged = AveragedTrajectory.open(trajectory_cache_dir(out, fold_ids))  # what the final replayed
    assert averaged.kind == "shared" and averaged.fold_runs == tuple(fold_ids)
    replayed = averaged.labels(0, torch.tensor([0, 1, 2]))
    expected = np.mean([read_class_trajectory(RunDir(out / "runs" / rid))[0, 0] for rid in fold_ids])
    assert torch.allclose(replayed.diagonal(), torch.full((3,), float(expected)), atol=1e-6)


def test_the_kind_is_looked_up_by_name(shared_kind):
    assert label_kind("shared") is SharedKind and SharedKind.learned
    labels = build_labels(
        "shared", num_samples=4, num_classes=3, targets=torch.tensor([0, 1, 2, 0]), init_target_prob=0.8, lr=1.0
    )
    assert isinstance(labels, SharedLabels)
    with pytest.raises(ValueError, match="registered already"):
        register_label_kind(type("OtherShared", (ClassKind,), {"name": "shared"}))
    with pytest.raises(UserError, match="Unknown label kind 'lowrank'"):
        label_kind("lowrank")


# A fresh interpreter that imports the registry alone: nothing has imported the package's public face or the built-in
# kinds' module (repro/labels/__init__.py loads neither), yet every lookup and registration finds them.
FRESH_REGISTRY = """
import json, sys
from repro.labels.registry import Panel, kinds_drawing, label_kind, label_kinds, learned_kinds, register_label_kind
loaded_first = "repro.labels.kinds" in sys.modules
found = label_kind("class").__name__
try:
    register_label_kind(type("Clash", (label_kind("class"),), {"name": "instance"}))
    clash = "accepted"
except ValueError as exc:
    clash = str(exc)
curves = sorted(kinds_drawing(Panel.CLASS_CURVES))
named = all(kind.name == name for name, kind in label_kinds().items())
print(json.dumps({"loaded_first": loaded_first, "found": found, "all": sorted(label_kinds()), "named": named,
                  "learned": sorted(learned_kinds()), "curves": curves, "clash": clash}))
"""


@pytest.mark.slow
def test_a_lookup_in_the_registry_alone_finds_the_built_in_kinds():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", FRESH_REGISTRY], capture_output=True, text=True, env=env, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["loaded_first"] is False  # the lookup itself imported them
    assert seen["found"] == "ClassKind"
    assert seen["all"] == ["class", "instance", "onehot", "replay", "smoothing"] and seen["named"]
    assert seen["learned"] == ["class", "instance"]
    assert seen["curves"] == sorted(kinds_drawing(Panel.CLASS_CURVES)) != []
    assert "registered already" in seen["clash"]
