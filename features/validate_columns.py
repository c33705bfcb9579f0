"""Finding the table's columns, and the collector every validation check reports to.

Split from :mod:`features.validate` (module size): which header plays which
role (exact, case-folded, or a near spelling offered as a hint), and the
refusal of a header that sits on another sheet or below title rows.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import features.messages_validate  # noqa: F401  (registers the validate.* messages)
from features.errors import InputError, Problem, Report
from features.i18n import tr
from features.schema import ROLE_COLUMNS, explicit_roles, plain, role_headers
from features.types import ColumnMapping

if TYPE_CHECKING:  # pragma: no cover
    from features.reader import RawTable

#: Rows listed in one message before "... and N more".
MAX_LISTED_ROWS = 10


@dataclass
class _Issues:
    """Problems of one file, each added in one line (collect, then raise)."""

    source: str
    report: Report = field(default_factory=Report)

    def error(
        self,
        message: str,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
        hint: str = "",
    ) -> None:
        self.report.add(Problem(self.source, message, row, column, value, hint))

    def warn(self, message: str, column: str | None = None) -> None:
        self.report.add(Problem(self.source, message, None, column, severity="warning"))

    def warn_rows(self, key: str, rows: Sequence[int], column: str) -> None:
        """One warning for a column naming its rows (10 at most, then a count)."""
        self.warn(tr(key, n=len(rows), rows=_list_rows(rows)), column)


def _list_rows(rows: Sequence[int]) -> str:
    """Row numbers for a message: the first :data:`MAX_LISTED_ROWS`, then a count."""
    listed = ", ".join(str(r) for r in rows[:MAX_LISTED_ROWS])
    if len(rows) > MAX_LISTED_ROWS:
        return tr("validate.more_rows", listed=listed, n=len(rows) - MAX_LISTED_ROWS)
    return listed


def _fold(text: str) -> str:
    """Key under which two headers or ids count as 'the same' for hints."""
    return unicodedata.normalize("NFC", text).strip().casefold()


def _close_header(
    wanted: str, aliases: Sequence[str], headers: list[str]
) -> str | None:
    """The header the planner probably meant: a known alias, else a near spelling."""
    by_plain = {plain(h): h for h in headers}
    for alias in (wanted, *aliases):
        if plain(alias) in by_plain:
            return by_plain[plain(alias)]
    close = difflib.get_close_matches(plain(wanted), list(by_plain), n=1, cutoff=0.6)
    return by_plain[close[0]] if close else None


def _resolve_columns(
    raw: RawTable, mapping: ColumnMapping, issues: _Issues
) -> dict[str, int]:
    """Column index of each role present; reports missing or ambiguous headers."""
    positions: dict[str, list[int]] = defaultdict(list)
    for index, header in enumerate(raw.header):
        if header:
            positions[header].append(index)
        elif any(raw.column(index)):
            issues.warn(tr("validate.blank_header", position=index + 1))
    for header, where in positions.items():
        if len(where) > 1:
            numbers = ", ".join(str(i + 1) for i in where)
            message = tr(
                "validate.duplicate_header",
                column=header,
                n=len(where),
                positions=numbers,
            )
            issues.error(
                message, None, header, hint=tr("validate.duplicate_header_hint")
            )
    folded: dict[str, list[str]] = defaultdict(list)
    for header in positions:
        folded[_fold(header)].append(header)
    explicit = explicit_roles(mapping)
    found: dict[str, int] = {}
    for spec in ROLE_COLUMNS:
        wanted = role_headers(mapping)[spec.role]
        if wanted in positions:
            found[spec.role] = positions[wanted][0]
        elif len(folded.get(_fold(wanted), [])) == 1:  # "Unit_ID" for "unit_id"
            found[spec.role] = positions[folded[_fold(wanted)][0]][0]
        elif spec.required or spec.role in explicit:
            close = _close_header(wanted, spec.aliases, list(positions))
            if close:
                hint = tr(
                    "validate.column_close", close=close, column=wanted, key=spec.role
                )
            else:
                headers = ", ".join(repr(h) for h in positions) or "—"
                hint = tr("validate.column_none", key=spec.role, headers=headers)
            key = (
                "validate.missing_column"
                if spec.required
                else "validate.mapped_missing"
            )
            issues.error(tr(key, column=wanted, key=spec.role), None, wanted, hint=hint)
    return found


def _refuse_header_below_row_1(raw: RawTable, mapping: ColumnMapping) -> None:
    """Point at the real header when it is on another sheet or below title rows.

    Official workbooks often open with an instructions sheet, or a title row
    ("DANH SÁCH ĐƠN VỊ NĂM 2026"); every later message would be a consequence
    of that, so only this one is given.
    """
    wanted = role_headers(mapping)
    required = {_fold(wanted["id"]), _fold(wanted["name"])}
    if required <= {_fold(h) for h in raw.header}:
        return
    for sheet, header in raw.other_sheets:
        if required <= {_fold(h) for h in header}:
            listed = f"'{wanted['id']}', '{wanted['name']}'"
            message = tr(
                "validate.other_sheet", sheet=raw.sheet, other=sheet, columns=listed
            )
            raise InputError(
                [
                    Problem(
                        raw.source,
                        message,
                        hint=tr("validate.other_sheet_hint", other=sheet),
                    )
                ]
            )
    for row, cells in enumerate(raw.top, start=2):  # Excel rows 2-11, uncut
        if required <= {_fold(c) for c in cells}:
            message = tr(
                "validate.header_below", row=row, id=wanted["id"], name=wanted["name"]
            )
            hint = tr("validate.header_below_hint", n=row - 1)
            raise InputError([Problem(raw.source, message, row, hint=hint)])
