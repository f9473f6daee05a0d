"""A benchmark script (benchmarks/NAME.py) imported as a module for its test: by its path, as benchmarks/ is no
package, and registered under its name in sys.modules (its dataclasses look their module up by that name)."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from repo_paths import REPO


def load_benchmark(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
