"""One check that a run stopped after its first epoch and resumed ends exactly where an uninterrupted run ends:
the same metrics (but wall-clock seconds), summary and every tensor of the final checkpoint."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import pytest
import torch

from repro.config import load_config, to_container
from repro.runs.checkpoint import load_checkpoint
from repro.runs.rundir import RunDir
from repro.train import Interrupted, RunResult, train


def checkpoint_tensors(tree: Any, prefix: str = "") -> Iterator[tuple[str, torch.Tensor]]:
    """Every tensor of a checkpoint, by its path (/method/model2/..., /optimizer/state/0/momentum_buffer)."""
    if isinstance(tree, torch.Tensor):
        yield prefix, tree
    elif isinstance(tree, dict):
        for k, v in tree.items():
            yield from checkpoint_tensors(v, f"{prefix}/{k}")
    elif isinstance(tree, (list, tuple)):
        for i, v in enumerate(tree):
            yield from checkpoint_tensors(v, f"{prefix}/{i}")


# A resumed run ends bit-identical to an uninterrupted one on the CPU; on a GPU only with deterministic kernels (the
# run id then differs from the CPU's, which is fine within a test). Tests that compare two runs' bits add this.
EXACT = ("deterministic=true",) if torch.cuda.is_available() else ()


@contextmanager
def torch_flags_kept() -> Iterator[None]:
    """Leave the process-wide flags a run's `deterministic` setting changes (torch's, cuDNN's and the cuBLAS
    workspace variable) as they were, for later tests."""
    saved = (
        torch.are_deterministic_algorithms_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
        os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
    )
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(saved[0])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved[1], saved[2]
        if saved[3] is None:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
        else:
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = saved[3]


def _without_seconds(record: Any) -> Any:
    if isinstance(record, list):
        return [_without_seconds(r) for r in record]
    return {k: v for k, v in record.items() if k != "seconds"}


def assert_resume_equals_uninterrupted(
    overrides: Sequence[str], tmp_path: Path
) -> tuple[RunResult, dict[str, torch.Tensor]]:
    """Train `overrides` whole (in tmp_path/a) and stopped after one epoch then resumed (in tmp_path/b); assert
    they agree. Returns the whole run and its checkpoint's tensors, for a test's own further checks."""
    overrides = [*overrides, *EXACT]
    with torch_flags_kept():
        whole = train(load_config([*overrides, f"output_root={tmp_path / 'a'}"]))
        cfg = load_config([*overrides, f"output_root={tmp_path / 'b'}"])
        with pytest.raises(Interrupted):
            train(cfg, stop_after_epochs=1)
        assert len(RunDir.for_config(to_container(cfg)).read_metrics()) == 1
        resumed = train(cfg)
    assert _without_seconds(resumed.run_dir.read_metrics()) == _without_seconds(whole.run_dir.read_metrics())
    assert _without_seconds(resumed.summary) == _without_seconds(whole.summary)
    a = dict(checkpoint_tensors(load_checkpoint(whole.run_dir.checkpoint_file)))
    b = dict(checkpoint_tensors(load_checkpoint(resumed.run_dir.checkpoint_file)))
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])]
    return whole, a
