"""Turning a raw table into :class:`~features.types.Profiles`, or saying every defect.

Why collect-then-raise: a planner fixing a spreadsheet should see *all* its
problems in one run (pandera's lazy mode), each located as Excel shows it —
file, row, column, value — with what to do. Values are never invented: an
empty scale cell stays NaN (with a warning) and a scenario that needs it
asks :func:`require_complete`, which names the rows to fill.

Numbers are read by :func:`features.numbers.parse_number` (re-exported here),
not by ``float()``. ``NaN``/``inf`` written as text are errors; a column where
most non-empty cells are numbers is a scale column and its text cells are
errors, not reasons to drop the column silently. Column finding and the
problem collector live in :mod:`features.validate_columns`, the messages in
:mod:`features.messages_validate`.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

import features.messages_validate  # noqa: F401  (registers the validate.* messages)
from features.i18n import tr
from features.numbers import parse_number
from features.schema import (
    FUNCTION_SEPARATOR,
    NUMERIC_MAJORITY,
    PROFILE_COLUMNS,
    SCALE_MINIMUM,
    VIETNAM_LAT,
    VIETNAM_LON,
    role_headers,
)
from features.types import ColumnMapping, Profiles
from features.validate_columns import (
    MAX_LISTED_ROWS,
    _fold,
    _Issues,
    _list_rows,
    _refuse_header_below_row_1,
    _resolve_columns,
)

if TYPE_CHECKING:  # pragma: no cover
    from features.reader import RawTable

__all__ = ["MAX_LISTED_ROWS", "parse_number", "require_complete", "validate_profiles"]


def _check_ids(raw: RawTable, index: int, issues: _Issues) -> list[str]:
    """Stripped NFC ids; reports empty, repeated and near-repeated ids."""
    ids = [cell.strip() for cell in raw.column(index)]
    column = raw.header[index]
    groups: dict[str, list[int]] = defaultdict(list)
    for position, (value, row) in enumerate(zip(ids, raw.row_numbers, strict=True)):
        if value:
            groups[_fold(value)].append(position)
        else:
            issues.error(
                tr("validate.empty_id"), row, column, hint=tr("validate.empty_id_hint")
            )
    for positions in groups.values():
        if len(positions) < 2:
            continue
        rows = [raw.row_numbers[p] for p in positions]
        values = sorted({ids[p] for p in positions})
        if len(values) == 1:
            message = tr(
                "validate.duplicate_id", value=values[0], rows=_list_rows(rows)
            )
        else:
            listed = ", ".join(repr(v) for v in values)
            message = tr(
                "validate.near_duplicate_id", values=listed, rows=_list_rows(rows)
            )
        issues.error(message, rows[0], column, hint=tr("validate.duplicate_id_hint"))
    return ids


def _number_hint(
    text: str, value: float | None, decimal_comma: bool
) -> tuple[str, str]:
    """Message and hint for a cell that is not a usable number."""
    if value is not None:  # NaN / inf text
        return tr("validate.nonfinite"), tr("validate.nonfinite_hint")
    if parse_number(text, not decimal_comma) is None:
        hint = tr("validate.not_number_hint")
    elif decimal_comma:
        hint = tr(
            "validate.use_decimal_point", fixed=repr(text.strip().replace(".", ","))
        )
    else:
        hint = tr("validate.use_decimal_comma")
    return tr("validate.not_number"), hint


def _parse_cells(raw: RawTable, index: int) -> list[float | None]:
    """Each cell of a column parsed once (None: not a number; empty cells too)."""
    return [parse_number(c, raw.decimal_comma) for c in raw.column(index)]


def _parse_column(
    raw: RawTable,
    index: int,
    issues: _Issues,
    *,
    minimum: float | None = SCALE_MINIMUM,
    parsed: list[float | None] | None = None,
) -> np.ndarray:
    """Float values of a numeric column (NaN where empty); reports every bad cell."""
    column = raw.header[index]
    values = np.full(raw.n_rows, np.nan)
    parsed = _parse_cells(raw, index) if parsed is None else parsed
    empty: list[int] = []
    cells = zip(raw.column(index), raw.row_numbers, parsed, strict=True)
    for position, (text, row, value) in enumerate(cells):
        if not text.strip():
            empty.append(row)
        elif value is None or not math.isfinite(value):
            message, hint = _number_hint(text, value, raw.decimal_comma)
            issues.error(message, row, column, text, hint)
        elif minimum is not None and value < minimum:
            issues.error(
                tr("validate.negative"), row, column, text, tr("validate.negative_hint")
            )
        else:
            values[position] = value
    if empty and minimum is not None:
        issues.warn_rows("validate.missing_values", empty, column)
    return values


def _looks_numeric(
    raw: RawTable, index: int, parsed: list[float | None], issues: _Issues
) -> bool:
    """More than half of the non-empty cells are numbers (NaN/inf text included).

    A text column holding some numbers gets a warning, so a figure column
    spoiled by notes is not dropped without a word.
    """
    n_cells = sum(1 for c in raw.column(index) if c.strip())
    numbers = sum(v is not None for v in parsed)
    numeric = n_cells > 0 and numbers > NUMERIC_MAJORITY * n_cells
    if numbers and not numeric:
        issues.warn(tr("validate.text_column", n=numbers, m=n_cells), raw.header[index])
    return numeric


def _check_coordinates(
    raw: RawTable, found: dict[str, int], mapping: ColumnMapping, issues: _Issues
) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes and longitudes (NaN where absent); both or neither, in range."""
    nan = np.full(raw.n_rows, np.nan)
    headers = role_headers(mapping)
    if ("lat" in found) != ("lon" in found):
        present, missing = (headers["lat"], headers["lon"])[
            :: 1 if "lat" in found else -1
        ]
        message = tr("validate.coord_alone", present=present, missing=missing)
        issues.error(message, None, present, hint=tr("validate.coord_alone_hint"))
        return nan, nan.copy()
    if "lat" not in found:
        return nan, nan.copy()
    lat = _parse_column(raw, found["lat"], issues, minimum=None)
    lon = _parse_column(raw, found["lon"], issues, minimum=None)
    lat_col, lon_col = raw.header[found["lat"]], raw.header[found["lon"]]
    lat_text, lon_text = raw.column(found["lat"]), raw.column(found["lon"])
    for i, row in enumerate(raw.row_numbers):
        has_lat, has_lon = bool(lat_text[i].strip()), bool(lon_text[i].strip())
        if has_lat != has_lon:
            present, missing = (lat_col, lon_col) if has_lat else (lon_col, lat_col)
            message = tr("validate.coord_half", present=present, missing=missing)
            issues.error(message, row, missing, hint=tr("validate.coord_half_hint"))
            lat[i] = lon[i] = np.nan
            continue
        swapped = (
            VIETNAM_LAT[0] <= lon[i] <= VIETNAM_LAT[1]
            and VIETNAM_LON[0] <= lat[i] <= VIETNAM_LON[1]
        ) or (abs(lat[i]) > 90 and abs(lon[i]) <= 90)
        hint = tr("validate.coord_swapped" if swapped else "validate.coord_range_hint")
        for values, column, text, limit in (
            (lat, lat_col, lat_text[i], 90),
            (lon, lon_col, lon_text[i], 180),
        ):
            if abs(values[i]) > limit:
                message = tr("validate.coord_range", low=-limit, high=limit)
                issues.error(message, row, column, text, hint)
    return lat, lon


def _warn_empty_categories(raw: RawTable, index: int, issues: _Issues) -> None:
    """Warn about empty cells of a category column: those units have no value."""
    cells = zip(raw.column(index), raw.row_numbers, strict=True)
    empty = [r for c, r in cells if not c.replace(FUNCTION_SEPARATOR, "").strip()]
    if empty:
        issues.warn_rows("validate.empty_category", empty, raw.header[index])


#: Control characters other than tab and line breaks (Alt+Enter in Excel): Unicode's
#: category Cc is exactly U+0000–U+001F and U+007F–U+009F. One regular expression per
#: cell instead of a category lookup per character (50 000 units: load_units 1.07 →
#: 0.88 s).
CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _check_control_characters(
    raw: RawTable, found: dict[str, int], issues: _Issues
) -> None:
    """Text columns may not hold invisible control characters (ESC, NUL, bell…).

    They never belong in a name or a category, are invisible in Excel, and
    would reach the planner's terminal and reports as escape sequences.
    """
    for role in ("id", "name", "function", "region", "current_cluster"):
        if role not in found:
            continue
        column = raw.header[found[role]]
        for cell, row in zip(raw.column(found[role]), raw.row_numbers, strict=False):
            bad = CONTROL_CHARACTER.search(cell)
            if bad is not None:
                issues.error(
                    tr("validate.control_character", code=f"U+{ord(bad.group()):04X}"),
                    row,
                    column,
                    hint=tr("validate.control_character_hint"),
                )


def _split_functions(text: str) -> tuple[str, ...]:
    parts = (
        unicodedata.normalize("NFC", p).strip() for p in text.split(FUNCTION_SEPARATOR)
    )
    return tuple(p for p in parts if p)


def _text_or_none(cells: Iterable[str]) -> list[str | None]:
    return [c.strip() or None for c in cells]


def _scale_columns(
    raw: RawTable, found: dict[str, int], mapping: ColumnMapping, issues: _Issues
) -> dict[str, np.ndarray]:
    """Every scale column with its values; text-majority columns are left out."""
    role_indices = set(found.values())
    by_header = {h: i for i, h in reversed(list(enumerate(raw.header))) if h}
    if mapping.numeric is not None:
        chosen = []
        for header in mapping.numeric:
            if header in PROFILE_COLUMNS or by_header.get(header) in role_indices:
                message = tr("validate.numeric_is_role", column=header)
                hint = tr("validate.numeric_is_role_hint")
                issues.error(message, None, header, hint=hint)
            elif header in by_header:
                chosen.append(by_header[header])
            else:
                close = difflib.get_close_matches(header, list(by_header), n=1)
                hint = (
                    tr(
                        "validate.column_close",
                        close=close[0],
                        column=header,
                        key="numeric",
                    )
                    if close
                    else tr(
                        "validate.headers_hint", headers=", ".join(map(repr, by_header))
                    )
                )
                message = tr("validate.unknown_numeric", column=header)
                issues.error(message, None, header, hint=hint)
        return {raw.header[i]: _parse_column(raw, i, issues) for i in sorted(chosen)}
    parsed = {
        i: _parse_cells(raw, i)
        for h, i in by_header.items()
        if i not in role_indices and h not in PROFILE_COLUMNS
    }
    chosen = [i for i in parsed if _looks_numeric(raw, i, parsed[i], issues)]
    return {
        raw.header[i]: _parse_column(raw, i, issues, parsed=parsed[i])
        for i in sorted(chosen)
    }


def validate_profiles(
    raw: RawTable,
    mapping: ColumnMapping = ColumnMapping(),  # noqa: B008 - frozen, safe default
) -> Profiles:
    """Check a raw table against :mod:`features.schema` and build the Profiles.

    Parameters
    ----------
    raw
        The table as read by :func:`features.load.read_table`.
    mapping
        Which header plays which role (the scenario's ``[data]`` keys).

    Returns
    -------
    Profiles
        Frame as documented in :class:`features.types.Profiles`; soft problems
        (empty cells, headerless or text columns) in ``warnings``.

    Raises
    ------
    InputError
        Every defect at once: missing required columns, repeated headers, rows
        longer than the header, empty or repeated ids, empty names, text, NaN,
        infinite or negative numbers in scale columns, coordinates given alone,
        out of range or swapped.
    """
    _refuse_header_below_row_1(raw, mapping)
    issues = _Issues(raw.source)
    for row, n_cells in raw.long_rows:
        message = tr("validate.long_row", n=n_cells, m=len(raw.header))
        issues.error(message, row, hint=tr("validate.long_row_hint"))
    if raw.n_rows == 0:
        issues.error(tr("validate.no_rows"), hint=tr("validate.no_rows_hint"))
    found = _resolve_columns(raw, mapping, issues)
    ids = _check_ids(raw, found["id"], issues) if "id" in found else []
    names = [c.strip() for c in raw.column(found["name"])] if "name" in found else []
    for name, row in zip(names, raw.row_numbers, strict=False):  # [] when missing
        if not name:
            column = raw.header[found["name"]]
            issues.error(
                tr("validate.empty_name"),
                row,
                column,
                hint=tr("validate.empty_name_hint"),
            )
    _check_control_characters(raw, found, issues)
    lat, lon = _check_coordinates(raw, found, mapping, issues)
    scale = _scale_columns(raw, found, mapping, issues)
    for role in ("function", "region", "current_cluster"):
        if role in found:
            _warn_empty_categories(raw, found[role], issues)
    issues.report.raise_if_errors(raw.source)

    def cells(role: str) -> list[str]:
        return raw.column(found[role]) if role in found else [""] * raw.n_rows

    index = pd.Index(ids, dtype="str", name="unit_id")
    current = _text_or_none(cells("current_cluster"))
    functions = [_split_functions(c) for c in cells("function")]
    frame = pd.DataFrame(
        {
            "name": pd.Series(names, index=index, dtype="str"),
            "functions": pd.Series(functions, index=index, dtype=object),
            "region": pd.Series(
                _text_or_none(cells("region")), index=index, dtype=object
            ),
            "lat": pd.Series(lat, index=index),
            "lon": pd.Series(lon, index=index),
            "current_cluster": pd.Series(current, index=index, dtype=object),
        },
        index=index,
    )
    for header, values in scale.items():
        frame[header] = values
    assert tuple(frame.columns[: len(PROFILE_COLUMNS)]) == PROFILE_COLUMNS
    return Profiles(
        frame=frame,
        numeric_columns=tuple(scale),
        source=raw.source,
        row_of=dict(zip(ids, raw.row_numbers, strict=True)),
        has_location="lat" in found and bool(np.isfinite(lat).any()),
        has_current="current_cluster" in found and any(v is not None for v in current),
        warnings=tuple(
            p.render() for p in issues.report.problems if p.severity != "error"
        ),
    )


def require_complete(profiles: Profiles, columns: Iterable[str], purpose: str) -> None:
    """Fail unless every unit has a value in ``columns`` (used for ``purpose``).

    Why: the table may leave a figure empty (never invented), but a scenario
    that balances or compares on it needs it for every unit.

    Parameters
    ----------
    profiles
        The validated table.
    columns
        Scale columns, or ``name``/``function``/``functions``/``region``/
        ``current_cluster``/``lat``/``lon``, or ``location`` (lat and lon).
    purpose
        Rendered words for the message, e.g. ``"[balance]"``.

    Raises
    ------
    InputError
        Naming each (row, column) left empty, or a column the table lacks.
    """
    frame = profiles.frame
    issues = _Issues(profiles.source)
    for column in columns:
        targets = ["lat", "lon"] if column == "location" else [column]
        for target in ("functions" if t == "function" else t for t in targets):
            known = target in PROFILE_COLUMNS or target in profiles.numeric_columns
            if target not in frame.columns or not known:
                message = tr("validate.require_missing", column=column, purpose=purpose)
                listed = ", ".join(profiles.numeric_columns) or "—"
                hint = tr(
                    "validate.require_missing_hint", purpose=purpose, columns=listed
                )
                issues.error(message, None, column, hint=hint)
                continue
            series = frame[target]
            empty = series.map(len) == 0 if target == "functions" else series.isna()
            message = tr("validate.require_empty", column=target, purpose=purpose)
            hint = tr("validate.require_empty_hint", column=column, purpose=purpose)
            for unit in series.index[empty.to_numpy(dtype=bool)]:
                issues.error(message, profiles.row_of.get(unit), target, hint=hint)
    issues.report.raise_if_errors(profiles.source)
