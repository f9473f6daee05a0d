"""The YAML the run directory holds (config.yaml), read with libyaml's C loader where PyYAML has it: the same mapping
as the pure-Python SafeLoader (which still runs when PyYAML was built without libyaml), about ten times faster.
Tables, figures, the ledger and a sweep's status read every run's config.yaml, thousands in a paper table's output
root. It is written with the pure-Python dumper: libyaml's wraps a long string of non-ASCII characters elsewhere,
and a run's config.yaml keeps one text whichever PyYAML wrote it. Sweep files are read here too (a paper table's
`repro tables` reads each twice). Where libyaml refuses a text, the pure-Python loader reads it again for its error:
that one quotes the offending line and marks the column, which libyaml's does not."""

from __future__ import annotations

from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Loader


def load_yaml(text: str) -> Any:
    """`yaml.safe_load(text)`, through libyaml where available; a text it refuses raises the pure-Python loader's
    yaml.YAMLError (the one that shows the line)."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:
        if _Loader is yaml.SafeLoader:
            raise
        return yaml.safe_load(text)  # raises again, with the line quoted
