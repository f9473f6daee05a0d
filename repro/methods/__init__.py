"""Training methods behind one interface. Each method is a torch-free declaration (declaration.py: its options,
step cost and what a plan asks of it; one module per method under declarations/) and a trainer on top of it
(base.py's `Method`: the step, its state, its recorders; one module per method here). `method.name` picks the
method in registry.py, which imports a declaration on its first lookup and a trainer only when a run trains it.

This module is the package's public face: it imports the registry (which fills the run id's slot for the methods'
options, repro/conf/schema.py) and re-exports the trainers' shared names on first access (PEP 562), so planning,
pricing and reporting load no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from repro.lazy_names import lazy_names
from repro.methods.declaration import MethodDeclaration, NoOptions, option_values
from repro.methods.registry import (
    METHODS,
    build_method,
    check_method_config,
    check_method_options,
    check_method_ready,
    method_class,
    method_declaration,
    method_options,
    register_method,
)

if TYPE_CHECKING:
    from repro.methods.base import Method, NonFiniteLossError, StepOutput, optimizer_step

# Each torch-side public name and the module that defines it.
_HOMES = {
    "Method": "repro.methods.base",
    "NonFiniteLossError": "repro.methods.base",
    "StepOutput": "repro.methods.base",
    "optimizer_step": "repro.methods.base",
}

__all__ = [
    "METHODS",
    "Method",
    "MethodDeclaration",
    "NoOptions",
    "NonFiniteLossError",
    "StepOutput",
    "build_method",
    "check_method_config",
    "check_method_options",
    "check_method_ready",
    "method_class",
    "method_declaration",
    "method_options",
    "option_values",
    "optimizer_step",
    "register_method",
]

__getattr__, __dir__ = lazy_names(globals(), _HOMES)
