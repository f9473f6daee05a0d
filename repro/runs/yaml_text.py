"""The YAML the run directory holds (config.yaml), read with libyaml's C loader where PyYAML has it: the same mapping
as the pure-Python SafeLoader (which still runs when PyYAML was built without libyaml), about ten times faster.
Tables, figures, the ledger and a sweep's status read every run's config.yaml, thousands in a paper table's output
root. It is written with the pure-Python dumper: libyaml's wraps a long string of non-ASCII characters elsewhere,
and a run's config.yaml keeps one text whichever PyYAML wrote it."""

from __future__ import annotations

from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Loader


def load_yaml(text: str) -> Any:
    """`yaml.safe_load(text)`, through libyaml where available (its errors are yaml.YAMLError too)."""
    return yaml.load(text, Loader=_Loader)
