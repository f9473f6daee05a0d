"""A package's public names re-exported from the modules that define them, each imported on first access and kept in
the package after (PEP 562's module `__getattr__`): importing a torch-free module of the package, or the package for
its light names, then loads none of the heavy modules behind the others (repro.labels, repro.data.noise,
repro.methods)."""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable, Mapping, MutableMapping


def lazy_names(
    namespace: MutableMapping[str, Any], homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The `__getattr__` and `__dir__` of the package whose globals are `namespace`, for its names in `homes` (name ->
    the module that defines it): `__getattr__, __dir__ = lazy_names(globals(), HOMES)` at the package's top level."""
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(home), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *homes})

    return __getattr__, __dir__
