"""The tiny digits presets the tests train at, in one place: a change of size happens here.

- QUIET: no tracker, no progress bar (every test run; W&B is tested where it is the point). It reaches a run the way
  a user's overrides do: in an override list (`[*CLEAN, "optim.epochs=2"]`), on the command line of a sweep a test
  runs (`run_sweep(FILE, extra_overrides=QUIET)`, `main(["sweep", FILE, *QUIET])`, as `repro sweep FILE` takes
  overrides after FILE), or in the `common:` list of a sweep text that many tests run (QUIET_YAML). Neither enters
  a run id (each is declared `identity=False`, repro/conf/schema.py), so where QUIET comes in never changes which
  run a test gets.
- CLEAN: clean digits, 200 training and 100 test samples; a test adds its method and `optim.epochs`.
- NOISY: digits with 40% uniform noise on the training labels and a clean 10% meta split, 300 training and 100 test
  samples, on the CPU (`noisy_digits` for another meta split or device; `noisy_split` for the noise and split alone,
  on a test's own data and size).
- TINY_MENTOR: a MentorNet mentor run's mentors trained for a few steps of 8 rows on a small share of the enumerated
  curriculum (method=mentornet_mentor: the authors' 30,000 Adam steps of 32 per mentor take minutes on a CPU, and a
  one-epoch run of 300 samples dumps too few rows for a batch of 32).
- TINY_SWEEP / write_tiny_sweep: a digits sweep file with a plain row and a learned row (two folds and a replay
  final): four runs, trained at TINY_SWEEP_SCALE. TINY_BASELINE_SWEEP: its plain row alone (one run per seed).

Import from a test module (a tests/ helper, imported by name: pyproject.toml's pytest `pythonpath`)::

    from presets import CLEAN, NOISY, QUIET
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from repro.sweep.spec.model import Scale

QUIET = ["tracker=none", "progress=none"]
QUIET_YAML = ", ".join(QUIET)  # QUIET as items of a sweep file's YAML list: f"common: [split=full, {QUIET_YAML}]"
CLEAN = ["data.subset=200", "data.test_subset=100", *QUIET]


def noisy_split(*, meta_fraction: float | None = 0.1) -> list[str]:
    """40% uniform noise on the training labels and the noisy split's clean meta set (`meta_fraction` None: the
    config's default, split/noisy.yaml's 2%), without size, tracker or device."""
    return [
        "split=noisy",
        *([f"split.meta_fraction={meta_fraction}"] if meta_fraction is not None else []),
        "noise=uniform",
        "noise.fraction=0.4",
    ]


def noisy_digits(*, meta_fraction: float | None = 0.1, device: str | None = "cpu") -> list[str]:
    """The noisy overrides; `meta_fraction` / `device` None leaves the config's default (split/noisy.yaml's 2% meta
    split, device=auto) for a test that trains at those."""
    return [
        *noisy_split(meta_fraction=meta_fraction),
        "data.subset=300",
        "data.test_subset=100",
        *QUIET,
        *([f"device={device}"] if device is not None else []),
    ]


NOISY = noisy_digits()
TINY_MENTOR = ["method.mentor_steps=40", "method.pd_sample_size=2000", "method.mentor_batch_size=8"]

TINY_BASELINE_SWEEP = f"""
    name: tiny
    metric: final_test_acc
    seeds: [0]
    common: [split=full, split.folds=2, {QUIET_YAML}]
    columns:
      Digits/SmallCNN: [data=digits, model=smallcnn]
    rows:
      Baseline: [method=baseline]
"""
TINY_SWEEP = (
    TINY_BASELINE_SWEEP
    + """\
      Ours (Class):
        learn: [method=class_labels]
"""
)
TINY_SWEEP_SCALE = Scale(epochs=1, subset=400, test_subset=200)


def write_tiny_sweep(directory: Path, text: str = TINY_SWEEP) -> Path:
    """Write `text` (TINY_SWEEP or a variant of it) as directory/tiny.yaml and return its path."""
    path = directory / "tiny.yaml"
    path.write_text(textwrap.dedent(text))
    return path


# A tiny Table 6 (3 rows, 2 seeds) that adds seeds until decided: the until-decided stage's tests and the budget
# cap's (which holds a further round) plan it. Pocock-type spending: the tests' values were chosen for it (a large
# gain stops at the first look).
TINY_SEQUENTIAL_SWEEP = f"""
    name: seq6
    table: 6
    metric: final_test_acc
    seeds: [0, 1]
    common: [data=digits, model=smallcnn, split=full, data.subset=200, data.test_subset=300, {QUIET_YAML}]
    columns:
      Digits/40%: []
    rows:
      Baseline: [method=baseline]
      MWNet: [method=label_smoothing]
      Ours (setting A): [method=confidence_penalty]
    until_decided: {{spending: pocock}}
"""
