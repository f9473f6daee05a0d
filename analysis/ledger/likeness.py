"""Whether a line compares like with like: its cells' recipes (the optimiser preset and batch size their planned
configs resolve to), their tuning (tuned on validation, or left at their config's values), and whether our rows stand
in for rows the paper prints. Each difference is a note the line's verdict carries, so a gain that may be a longer
schedule's or a tuned method's over an untuned one says so."""

from __future__ import annotations

from typing import Any, Sequence

from repro.claims.claim import Claim, PaperDifference

RECIPE = ("optim", "data.batch_size")  # the config keys (and subtrees) that make a row's training recipe
SHOWN = 3  # differing recipe keys named before "..."


def line_notes(claim: Claim, cells: Sequence[Sequence[Any]]) -> list[str]:
    """`cells`: per cell of the line, its planned reported runs (their configs are read). A gain's two cells are
    compared; an interaction's within each of its two differences (ResNet18's recipe is not VGG16's, by design)."""
    notes = []
    if claim.stand_in:
        paper = " ".join(f"{'+' if t.coef > 0 else '−'} {t.row}" for t in claim.paper_terms).lstrip("+ ")
        notes.append(f"like-for-like rows, judged against the paper's {paper}")
    if any(not runs for runs in cells):
        return notes
    for pair in (cells[i : i + 2] for i in range(0, len(cells) - 1, 2)):  # the cells each difference contrasts
        configs = [runs[0].config for runs in pair]
        recipe = _differences([_recipe(c) for c in configs])
        if recipe:
            shown = ", ".join(recipe[:SHOWN]) + (", ..." if len(recipe) > SHOWN else "")
            notes.append(f"rows differ in recipe: {shown}")
        tuning = _tuning(pair, configs)
        if tuning:
            notes.append(tuning)
    return list(dict.fromkeys(notes))


def _recipe(config: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key in RECIPE:
        node: Any = config
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        _flatten(key, node, flat)
    return flat


def _flatten(prefix: str, node: Any, out: dict[str, Any]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}", value, out)
    else:
        out[prefix] = node


def _differences(recipes: list[dict[str, Any]]) -> list[str]:
    keys = list(dict.fromkeys(k for r in recipes for k in r))
    return [
        f"{key} {' vs '.join(_shown(r.get(key)) for r in recipes)}"
        for key in keys
        if len({repr(r.get(key)) for r in recipes}) > 1
    ]


def _shown(value: Any) -> str:
    return "-" if value is None else str(value)


def _tuning(cells: Sequence[Sequence[Any]], configs: list[dict[str, Any]]) -> str:
    """A cell tuned on validation beside one left at its method's configured values (a method with nothing to set,
    one-hot training, is not "untuned"), each named by its row and column: Table 4's two Baseline cells differ in
    their column (temperature scaling or none), not their row."""
    tuned = [tuple((c.get("tune") or {}).get("keys") or ()) for c in configs]
    if all(tuned) or not any(tuned):
        return ""
    untuned = [_cell(runs) for runs, keys, c in zip(cells, tuned, configs) if not keys and _settable(c)]
    if not untuned:
        return ""
    chosen = [f"{_cell(runs)} tuned ({', '.join(k.split('.')[-1] for k in keys)})" for runs, keys in zip(cells, tuned)
              if keys]  # fmt: skip
    left = ", ".join(dict.fromkeys(untuned))
    return f"tuning differs: {'; '.join(dict.fromkeys(chosen))}; {left} at its config's values"


def _cell(runs: Sequence[Any]) -> str:
    return f"{runs[0].row} / {runs[0].column}"


def cited_notes(paper: PaperDifference, cited: Sequence[tuple[str, str, str]]) -> list[str]:
    """Where the paper's difference beside a line is drawn from a cell its sweep says is cited from another recipe
    (`cited`: (row, column, words), the results index's `notes.paper_cells`, the baseline gate's), one note a cell:
    the difference is the paper's, but not of the recipe the table trains."""
    said = {(row, column): words for row, column, words in cited}
    used = dict.fromkeys((cell.row, cell.column) for line in paper.lines for _, cell in line.cells)
    found = [(row, column) for row, column in used if (row, column) in said]
    return [f"the paper's Δ uses {row} / {column}, {said[(row, column)]}" for row, column in found]


def _settable(config: dict[str, Any]) -> bool:
    """The method has a numeric option a tuning could have set."""
    method = config.get("method") or {}
    return any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in method.values())
