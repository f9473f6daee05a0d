"""What no schema can express: the checks of a config against this machine.

Every key's type, range, allowed values and the rules that tie keys together are declared once, beside what they
describe (repro/conf/schema.py for the config groups, each noise model's and each method's own `Options`;
repro/schema/ says how), and checked when a config is loaded or a sweep planned. What remains here depends on the
machine a run starts on, so it is checked there, by `repro train`, and never when a sweep is planned on a login node
that may not see the data: that a path the run reads exists.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

from repro.errors import UserError

__all__ = ["check_paths"]


def check_paths(tree: Mapping[str, Any]) -> None:
    """Paths that must exist do: a CIFAR data.root (checked at load time for `repro train`, not when a sweep is
    planned on a machine that may not see the data)."""
    data = tree.get("data") or {}
    name, root = str(data.get("name", "")), data.get("root")
    if name.startswith("cifar") and root and not os.path.isdir(os.path.expanduser(str(root))):
        folder = "cifar-10-batches-py" if name == "cifar10" else "cifar-100-python"
        raise UserError(
            f"data.root={root} does not exist: for data={name} it must be the directory that contains {folder}/ "
            "(the torchvision layout; a run downloads nothing). Pass data.root=<that directory> or set CIFAR_ROOT; "
            f"`repro data download {name} --root <that directory>` fetches it (docs/training.md, 'Getting CIFAR'). "
            "Nothing was run or written."
        )
