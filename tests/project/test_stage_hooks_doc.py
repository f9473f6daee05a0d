"""The stage protocol's hooks are listed once with their contracts, in repro/sweep/protocol/base.py's docstring;
docs/architecture.md lists them in the same order, each item beginning with that contract, and `Stage` has exactly
those hooks (its overridable methods). A hook added, removed or reworded in one place and not the others fails here."""

from __future__ import annotations

import inspect
import re

import repro.sweep.protocol.base as protocol
from import_graph import REPO

ARCHITECTURE = REPO / "docs" / "architecture.md"
TABLE_LINE = re.compile(r"^    (\w+) {2,}(\S.*)$")  # "    name       contract", in the module docstring
DOC_ITEM = re.compile(r"^- `(\w+)\([^`]*\)[^`]*`: (.*)$")  # "- `name(args) -> Type`: contract ...", in the doc


def _words(text: str) -> str:
    return " ".join(text.split())


def docstring_hooks(docstring: str) -> dict[str, str]:
    """name -> contract, from the docstring's table (one line a hook, the contract after two or more spaces)."""
    return {m[1]: m[2] for m in map(TABLE_LINE.match, docstring.splitlines()) if m}


def doc_hooks(text: str) -> dict[str, str]:
    """name -> the item's text, from the architecture doc's list under "The hooks" (items that begin with a call)."""
    section = text[text.index("The hooks, each a no-op by default") :]
    section = section[: section.index("\n\n", section.index("\n- "))]
    items: dict[str, str] = {}
    name = None
    for line in section.splitlines():
        match = DOC_ITEM.match(line)
        if match:
            name = match[1]
            items[name] = match[2]
        elif name is not None and line.startswith("  "):
            items[name] += " " + line.strip()
    return items


def stage_hooks() -> list[str]:
    """`Stage`'s overridable methods, in the order the class defines them."""
    return [
        name for name, value in vars(protocol.Stage).items() if inspect.isfunction(value) and not name.startswith("_")
    ]


def test_the_hooks_are_listed_once_with_their_contracts():
    listed = docstring_hooks(protocol.__doc__)
    documented = doc_hooks(ARCHITECTURE.read_text(encoding="utf-8"))
    assert list(listed) == stage_hooks(), "base.py's docstring and `Stage` list different hooks"
    assert list(documented) == list(listed), "docs/architecture.md lists other hooks than base.py's docstring"
    differ = [name for name, contract in listed.items() if not _words(documented[name]).startswith(_words(contract))]
    assert not differ, f"docs/architecture.md's items that do not begin with base.py's contract: {differ}"


def test_the_protocol_has_at_most_eight_hooks():
    assert len(stage_hooks()) <= 8, stage_hooks()


def test_the_comparison_sees_a_reworded_contract():
    """The check above fails on a doc item whose contract differs from the docstring's, and on a missing item."""
    docstring = "intro\n\n    read       its key, read\n    decide     its decision\n\nmore"
    doc = (
        "The hooks, each a no-op by default:\n\n- `read(value)`: its key, read. More.\n"
        "- `decide(plan) -> Decision`: its choice\n  on a plan.\n\nAfter."
    )
    listed, documented = docstring_hooks(docstring), doc_hooks(doc)
    assert listed == {"read": "its key, read", "decide": "its decision"}
    assert documented == {"read": "its key, read. More.", "decide": "its choice on a plan."}
    assert _words(documented["read"]).startswith(listed["read"])
    assert not _words(documented["decide"]).startswith(listed["decide"])
