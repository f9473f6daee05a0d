"""The sweep files that define the tables: which file is table N (tableN.yaml, or a file named for its subject that
declares `table: N`), and the scale and overrides the last `repro sweep` of it ran with, which the runs' ids depend
on. analysis/tables.py builds and writes the tables from them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

from repro.errors import UserError

_TABLE_FILE = re.compile(r"^table(\d+)\.ya?ml$")


def load_specs(sweeps_dir: str | Path, tables: Sequence[int] | None = None) -> dict[int, Any]:
    """{table number: SweepSpec} from `<sweeps_dir>/tableN.yaml`; all such files when `tables` is None."""
    sweeps_dir = Path(sweeps_dir)
    files = {int(m.group(1)): p for p in sorted(sweeps_dir.glob("table*.y*ml")) if (m := _TABLE_FILE.match(p.name))}
    files.update({n: p for n, p in _named_table_files(sweeps_dir).items() if n not in files})
    if tables is None:
        wanted = sorted(files)
        if not wanted:
            raise UserError(
                f"No sweep files (tableN.yaml) in {sweeps_dir}: the tables are defined by the sweep files, which "
                "say which runs make each cell. Pass --sweeps-dir pointing at the repository's sweeps/ directory."
            )
    else:
        wanted = list(dict.fromkeys(int(t) for t in tables))
        missing = [t for t in wanted if t not in files]
        if missing:
            have = ", ".join(str(t) for t in sorted(files)) or "none"
            raise UserError(
                f"No sweep file for table(s) {', '.join(map(str, missing))} in {sweeps_dir} (tables with a sweep file: "
                f"{have}). Table 9 lists hyperparameters and has no runs; pick tables from the list or pass "
                "--sweeps-dir pointing at the directory that holds tableN.yaml."
            )
    try:
        from repro.sweep.spec.sweep_file import load_sweep
    except ImportError as exc:  # pragma: no cover - the sweep package ships with the repository
        raise UserError(
            f"The sweep package (repro.sweep) is not available ({exc}); reinstall the repository."
        ) from None
    specs = {t: load_sweep(files[t]) for t in wanted}
    for t, spec in specs.items():
        declared = getattr(spec, "table", None)
        if declared is not None and int(declared) != t and _TABLE_FILE.match(files[t].name):
            raise UserError(
                f"{files[t]} says table: {declared}, but its file name says table {t}; rename the file "
                f"to table{declared}.yaml or fix its `table:` key."
            )
    return specs


def _named_table_files(sweeps_dir: Path) -> dict[int, Path]:
    """Sweep files named for their subject (cifar_n.yaml) that declare a table number (`table: 14`)."""
    import yaml

    found: dict[int, Path] = {}
    for path in sorted(sweeps_dir.glob("*.y*ml")):
        if _TABLE_FILE.match(path.name):
            continue
        try:
            number = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("table")
        except (yaml.YAMLError, AttributeError, OSError):
            continue  # not a table's sweep file (the sweep command reports its own problems)
        if isinstance(number, int) and not isinstance(number, bool):
            found.setdefault(number, path)
    return found


def last_sweep_options(output_root: str | Path, spec: Any) -> tuple[Any, list[str]]:
    """(scale, extra overrides) of the last `repro sweep` of this sweep into `output_root` (its selection.json), so
    the table finds the runs that command made; (None, []) when there is no record."""
    from repro.sweep.spec.model import Scale
    from repro.sweep.sweep_folder import last_selection

    name = getattr(spec, "name", None)
    selection = last_selection(output_root, name) if name else None
    if not selection:
        return None, []
    scale = Scale(**selection["scale"]) if selection.get("scale") else None
    return scale, list(selection.get("extra_overrides") or [])
