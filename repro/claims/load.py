"""paper_tables/claims.csv read and checked: each claim with the paper's own contrast in every column it prints
(paper_tables/paper/tableN.csv) or, for a recorded quantity, the number its text states (paper/text.csv). The
paper's numbers are never typed in claims.csv, so a claim's paper contrast is always the published one. A claim of
a table of ours that no paper prints (numbers from 10 on without a tableN.csv: Lukasik et al.'s claims on Tables
11-13) has no paper number at all, and says so (`Claim.paper_prints`).

Columns: table, name, kind (gain | comparable | interaction | recorded), terms (`+row [setting]; -row [setting]`,
repro/claims/claim.py), paper_terms (empty: the same rows), where (`|`-separated text an anchor column must hold;
empty: any), margin and margin_reason (comparable), measure (recorded), says (the claim in the paper's words)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from repro.claims.claim import KINDS, Claim, PaperLine, Term, parse_terms, term_columns
from repro.claims.paper import PAPER_TABLES, PaperCell, printed_cells, text_numbers
from repro.errors import UserError

CLAIMS_PATH = PAPER_TABLES / "claims.csv"
COLUMNS = ["table", "name", "kind", "terms", "paper_terms", "where", "margin", "margin_reason", "measure", "says"]


def load_claims(
    path: str | Path | None = None, paper_dir: str | Path | None = None, tables: list[int] | None = None
) -> list[Claim]:
    """The claims of `path` (default paper_tables/claims.csv), each with the paper's numbers; only those of
    `tables` when given."""
    path = Path(path or CLAIMS_PATH)
    if not path.is_file():
        raise UserError(
            f"The claims file {path} does not exist. The paper's claims ship with the package ({CLAIMS_PATH}); "
            f"leave --claims out to read them, or pass --claims with a CSV of the columns {', '.join(COLUMNS)}."
        )
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != COLUMNS:
            raise UserError(
                f"{path} has columns {reader.fieldnames}, expected {COLUMNS}: one claim a line (docs/tables.md, "
                '"The claims"). Fix its header.'
            )
        records = list(reader)
    texts = text_numbers(paper_dir)
    claims, papers, names = [], {}, set()
    for line, rec in enumerate(records, start=2):
        where = f"{path}, line {line}"
        if not (rec["table"] or "").isdigit():
            raise UserError(f"{where}: table {rec['table']!r} is not a table number; write e.g. 1.")
        number = int(rec["table"])
        if tables is not None and number not in tables:
            continue
        if (number, rec["name"]) in names:
            raise UserError(f"{where}: Table {number} already has a claim named {rec['name']!r}; names are unique.")
        names.add((number, rec["name"]))
        if number not in papers:
            papers[number] = printed_cells(number, paper_dir)
        numbers = tuple((t.column, t.mean, t.source) for t in texts if (t.table, t.claim) == (number, rec["name"]))
        claims.append(_claim(rec, number, papers[number], numbers, where))
    return claims


def _claim(
    rec: dict[str, str],
    number: int,
    paper: dict[tuple[str, str], PaperCell] | None,
    numbers: tuple[tuple[str, float, str], ...],
    where: str,
) -> Claim:
    kind = KINDS.get(rec["kind"].strip())
    if kind is None:
        raise UserError(f"{where}: kind {rec['kind']!r} is not one of {', '.join(KINDS)}.")
    terms = _terms(rec["terms"], "terms", where)
    paper_terms = _terms(rec["paper_terms"], "paper_terms", where) if rec["paper_terms"].strip() else terms
    for found in (terms, paper_terms):
        if len(found) != kind.terms:
            raise UserError(
                f"{where}: a {kind.name} claim contrasts {kind.terms} cell(s) ({kind.says}); this line gives "
                f"{len(found)}: {'; '.join(map(str, found))}."
            )
    margin = _margin(rec, kind.needs_margin, where)
    if kind.needs_measure != bool(rec["measure"].strip()):
        raise UserError(f"{where}: a measure is given for recorded claims, and only for them (kind {kind.name}).")
    claim = Claim(
        table=number,
        name=rec["name"].strip(),
        kind=kind,
        terms=terms,
        paper_terms=paper_terms,
        where=tuple(w.strip() for w in rec["where"].split("|") if w.strip()),
        margin=margin,
        margin_reason=rec["margin_reason"].strip(),
        measure=rec["measure"].strip(),
        says=rec["says"].strip(),
        paper_numbers=numbers,
    )
    if paper is None:  # no paper prints this table: nothing to stand in for, no number to read
        if rec["paper_terms"].strip():
            raise UserError(
                f"{where}: Table {number} is a table of ours that no paper prints (no paper_tables/paper/"
                f"table{number}.csv), so there are no paper rows to stand in for; leave paper_terms empty."
            )
        return Claim(**{**claim.__dict__, "paper_prints": False})
    columns = tuple(dict.fromkeys(column for _, column in paper))
    if kind.needs_measure:
        return Claim(**{**claim.__dict__, "paper_columns": columns})
    lines = _paper_lines(claim, paper, where)
    return Claim(**{**claim.__dict__, "paper_lines": lines, "paper_columns": columns})


def _terms(text: str, column: str, where: str) -> tuple[Term, ...]:
    try:
        return parse_terms(text)
    except ValueError as err:
        raise UserError(f"{where}: {column} {text!r}: {err}.") from None


def _margin(rec: dict[str, str], needed: bool, where: str) -> float | None:
    text, reason = rec["margin"].strip(), rec["margin_reason"].strip()
    if not needed:
        if text:
            raise UserError(f"{where}: only a comparable claim has a margin; this one is a {rec['kind']}.")
        return None
    try:
        margin = float(text)
    except ValueError:
        margin = math.nan
    if not (margin > 0 and math.isfinite(margin)) or not reason:
        raise UserError(
            f"{where}: a comparable claim needs a positive margin (in the metric's units) and its reason in "
            f"margin_reason; it has margin {text!r} and reason {reason!r}."
        )
    return margin


def _paper_lines(claim: Claim, paper: dict[tuple[str, str], PaperCell], where: str) -> tuple[PaperLine, ...]:
    rows = list(dict.fromkeys(row for row, _ in paper))
    for term in claim.paper_terms:
        if term.row not in rows:
            raise UserError(
                f"{where}: Table {claim.table} of the paper has no row {term.row!r} (its rows: {', '.join(rows)}). "
                f"Write the row as paper_tables/paper/table{claim.table}.csv names it; a row of ours the paper does "
                "not print goes in terms, with the paper's rows in paper_terms."
            )
    first = claim.paper_terms[0]
    lines = []
    for row, column in paper:
        if row != first.row or first.setting not in column or not claim.matches_where(column):
            continue
        wanted = list(zip(claim.paper_terms, term_columns(claim.paper_terms, column)))
        if all((t.row, c) in paper for t, c in wanted):
            lines.append(PaperLine(column, tuple((t.coef, paper[(t.row, c)]) for t, c in wanted)))
    if not lines:
        raise UserError(
            f"{where}: the paper prints no column with every cell of {'; '.join(map(str, claim.paper_terms))} in "
            f"Table {claim.table}, so the claim has no paper contrast; check the rows and settings against "
            f"paper_tables/paper/table{claim.table}.csv."
        )
    return tuple(lines)
