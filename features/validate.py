"""Turning a raw table into :class:`~features.types.Profiles`, or saying every defect.

Why collect-then-raise: a planner fixing a spreadsheet should see *all* its
problems in one run (pandera's lazy mode), each located as Excel shows it —
file, row, column, value — with what to do. Values are never invented: an
empty scale cell stays NaN (with a warning) and a scenario that needs it
asks :func:`require_complete`, which names the rows to fill.

Numbers are read deliberately, not by ``float()`` (which accepts ``"1_000"``
and ``"nan"``). Accepted forms, by ``decimal_comma``:

* default: ``1234``, ``-1234.5``, ``1e6``; thousands grouped by ``,`` or a
  space (``1,234,567.5``, ``1 234 567``) and ``1.234.567`` (two or more dot
  groups cannot be a decimal). A single ``1.234`` is one point two three four.
* ``decimal_comma=True``: ``1234,5``; thousands grouped by ``.`` or a space
  (``1.234.567,5``); so ``1.234`` is one thousand two hundred thirty-four.

``NaN``/``inf`` written as text are errors (a figure nobody knows is an empty
cell); a column where most non-empty cells are numbers is a scale column and
its text cells are errors, not reasons to drop the column silently.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from features.errors import InputError, Problem, Report
from features.i18n import register, tr
from features.schema import (
    FUNCTION_SEPARATOR,
    NUMERIC_MAJORITY,
    PROFILE_COLUMNS,
    ROLE_COLUMNS,
    SCALE_MINIMUM,
    VIETNAM_LAT,
    VIETNAM_LON,
    explicit_roles,
    plain,
    role_headers,
)
from features.types import ColumnMapping, Profiles

if TYPE_CHECKING:  # pragma: no cover
    from features.load import RawTable

register(
    {
        "validate.missing_column": {
            "vi": "thiếu cột bắt buộc '{column}'",
            "en": "required column '{column}' is missing",
        },
        "validate.mapped_missing": {
            "vi": "không có cột '{column}' (khai báo {key} = \"{column}\" trong [data])",
            "en": "there is no column '{column}' (declared {key} = \"{column}\" under [data])",
        },
        "validate.column_close": {
            "vi": "có cột '{close}': đổi tiêu đề thành '{column}' hoặc khai báo "
            '{key} = "{close}" trong mục [data] của tệp kịch bản',
            "en": "there is a column '{close}': rename it to '{column}' or declare "
            '{key} = "{close}" under [data] in the scenario file',
        },
        "validate.column_none": {
            "vi": 'thêm cột này vào dòng 1, hoặc khai báo {key} = "<tên cột>" trong '
            "mục [data]; các cột hiện có: {headers}",
            "en": 'add this column to row 1, or declare {key} = "<column name>" under '
            "[data]; the file has: {headers}",
        },
        "validate.duplicate_header": {
            "vi": "tiêu đề '{column}' xuất hiện {n} lần (cột thứ {positions})",
            "en": "header '{column}' appears {n} times (columns {positions})",
        },
        "validate.duplicate_header_hint": {
            "vi": "đặt cho mỗi cột một tiêu đề riêng",
            "en": "give every column its own header",
        },
        "validate.blank_header": {
            "vi": "cột thứ {position} có dữ liệu nhưng không có tiêu đề nên bị bỏ qua",
            "en": "column {position} holds data but has no header, so it is ignored",
        },
        "validate.long_row": {
            "vi": "dòng có {n} ô nhưng dòng tiêu đề chỉ có {m} cột",
            "en": "the row has {n} cells but the header has only {m} columns",
        },
        "validate.long_row_hint": {
            "vi": "kiểm tra dấu phân cách (',' hoặc ';') và dấu phẩy thập phân; ô chứa "
            "dấu phân cách phải nằm trong ngoặc kép",
            "en": "check the separator (',' or ';') and decimal commas; a cell containing "
            "the separator must be quoted",
        },
        "validate.other_sheet": {
            "vi": "trang tính đầu '{sheet}' không có các cột {columns}, trang '{other}' thì có",
            "en": "the first sheet '{sheet}' lacks columns {columns}; sheet '{other}' has them",
        },
        "validate.other_sheet_hint": {
            "vi": 'chỉ rõ trang cần đọc: sheet = "{other}" trong mục [data] (hoặc --sheet)',
            "en": 'name the sheet to read: sheet = "{other}" under [data] (or --sheet)',
        },
        "validate.header_below": {
            "vi": "tên cột ('{id}', '{name}') nằm ở dòng {row} thay vì dòng 1",
            "en": "the column names ('{id}', '{name}') are in row {row}, not in row 1",
        },
        "validate.header_below_hint": {
            "vi": "xóa {n} dòng tiêu đề/ghi chú phía trên để tên cột nằm ở dòng 1",
            "en": "delete the {n} title/note row(s) above so the column names are in row 1",
        },
        "validate.no_rows_hint": {
            "vi": "thêm mỗi đơn vị một dòng, bắt đầu từ dòng 2",
            "en": "add one row per unit, starting at row 2",
        },
        "validate.numeric_is_role_hint": {
            "vi": "bỏ cột này khỏi danh sách cột số (numeric)",
            "en": "remove this column from the numeric list",
        },
        "validate.require_missing_hint": {
            "vi": "kiểm tra tên cột (viết đúng như dòng 1) hoặc bỏ nó khỏi {purpose}; "
            "các cột số hiện có: {columns}",
            "en": "check the column name (exactly as in row 1) or drop it from {purpose}; "
            "numeric columns: {columns}",
        },
        "validate.headers_hint": {
            "vi": "các cột hiện có: {headers}",
            "en": "the file has: {headers}",
        },
        "validate.no_rows": {
            "vi": "bảng không có đơn vị nào (chỉ có dòng tiêu đề)",
            "en": "the table has no units (only the header row)",
        },
        "validate.empty_id": {"vi": "mã đơn vị trống", "en": "the unit id is empty"},
        "validate.empty_id_hint": {
            "vi": "mỗi đơn vị cần một mã riêng",
            "en": "every unit needs its own id",
        },
        "validate.duplicate_id": {
            "vi": "mã '{value}' lặp lại ở các dòng {rows}",
            "en": "id '{value}' is repeated in rows {rows}",
        },
        "validate.near_duplicate_id": {
            "vi": "các mã {values} ở các dòng {rows} chỉ khác nhau ở chữ hoa/thường, "
            "dấu cách hoặc cách ghi dấu",
            "en": "ids {values} in rows {rows} differ only in case, spaces or accent encoding",
        },
        "validate.duplicate_id_hint": {
            "vi": "mỗi đơn vị phải có một mã riêng: sửa mã hoặc xóa dòng trùng",
            "en": "each unit needs a distinct id: fix the id or delete the repeated row",
        },
        "validate.empty_name": {
            "vi": "tên đơn vị trống",
            "en": "the unit name is empty",
        },
        "validate.empty_name_hint": {
            "vi": "nhập tên hiển thị của đơn vị",
            "en": "enter the unit's display name",
        },
        "validate.not_number": {"vi": "không phải là số", "en": "not a number"},
        "validate.not_number_hint": {
            "vi": "nhập một số (ví dụ 1234.5) hoặc để trống nếu chưa biết",
            "en": "enter a number (e.g. 1234.5) or leave the cell empty if unknown",
        },
        "validate.use_decimal_comma": {
            "vi": "số này dùng dấu phẩy thập phân: đọc tệp với tùy chọn dấu phẩy thập phân",
            "en": "this number uses a decimal comma: read the file with the decimal-comma option",
        },
        "validate.use_decimal_point": {
            "vi": "đang đọc với dấu phẩy thập phân, nên '.' chỉ được dùng để nhóm hàng "
            "nghìn: viết {fixed}, hoặc bỏ tùy chọn dấu phẩy thập phân",
            "en": "with the decimal-comma option '.' only groups thousands: write {fixed}, "
            "or drop the decimal-comma option",
        },
        "validate.nonfinite": {
            "vi": "giá trị không xác định (NaN/vô cực)",
            "en": "not a finite number (NaN/infinity)",
        },
        "validate.nonfinite_hint": {
            "vi": "nhập số thật, hoặc để trống ô nếu chưa biết",
            "en": "enter the real figure, or leave the cell empty if unknown",
        },
        "validate.negative": {
            "vi": "số liệu quy mô phải ≥ 0",
            "en": "scale figures must be >= 0",
        },
        "validate.negative_hint": {
            "vi": "kiểm tra dấu trừ hoặc số liệu gốc",
            "en": "check the minus sign or the source figure",
        },
        "validate.missing_values": {
            "vi": "{n} ô trống (dòng {rows}); không tự điền, các ô này được để trống",
            "en": "{n} empty cell(s) (rows {rows}); nothing is filled in, they stay empty",
        },
        "validate.coord_alone": {
            "vi": "có cột '{present}' nhưng không có cột '{missing}'",
            "en": "column '{present}' is given without column '{missing}'",
        },
        "validate.coord_alone_hint": {
            "vi": "vĩ độ và kinh độ phải đi cùng nhau: thêm cột còn thiếu hoặc xóa cột này",
            "en": "latitude and longitude go together: add the missing column or remove this one",
        },
        "validate.coord_half": {
            "vi": "có '{present}' nhưng '{missing}' trống",
            "en": "'{present}' is given but '{missing}' is empty",
        },
        "validate.coord_half_hint": {
            "vi": "nhập cả vĩ độ lẫn kinh độ, hoặc để trống cả hai",
            "en": "enter both latitude and longitude, or leave both empty",
        },
        "validate.coord_range": {
            "vi": "phải nằm trong khoảng [{low}, {high}] độ",
            "en": "must lie within [{low}, {high}] degrees",
        },
        "validate.coord_range_hint": {
            "vi": "nhập tọa độ WGS84 theo độ thập phân",
            "en": "enter WGS84 coordinates in decimal degrees",
        },
        "validate.coord_swapped": {
            "vi": "có vẻ vĩ độ và kinh độ bị đổi chỗ (Việt Nam: vĩ độ ≈ 8–24, kinh độ ≈ 102–110)",
            "en": "latitude and longitude look swapped (Vietnam: lat ≈ 8–24, lon ≈ 102–110)",
        },
        "validate.unknown_numeric": {
            "vi": "cột số '{column}' được khai báo nhưng không có trong tệp",
            "en": "numeric column '{column}' is declared but not in the file",
        },
        "validate.empty_category": {
            "vi": "{n} ô trống (dòng {rows}); các đơn vị này được coi là không có giá trị",
            "en": "{n} empty cell(s) (rows {rows}); those units have no value here",
        },
        "validate.numeric_is_role": {
            "vi": "cột '{column}' đã có vai trò riêng (mã, tên, vùng, tọa độ…), "
            "không thể khai báo là cột số liệu quy mô",
            "en": "column '{column}' already has a role (id, name, region, "
            "coordinates…) and cannot also be a scale column",
        },
        "validate.text_column": {
            "vi": "chỉ {n}/{m} ô là số nên cột được coi là chữ (không dùng làm số liệu quy mô)",
            "en": "only {n} of {m} cells are numbers, so the column is read as text "
            "(not a scale figure)",
        },
        "validate.require_missing": {
            "vi": "cột '{column}' cần cho {purpose} nhưng không có trong bảng",
            "en": "column '{column}' is needed for {purpose} but is not in the table",
        },
        "validate.require_empty": {
            "vi": "ô trống nhưng cột '{column}' được dùng cho {purpose}",
            "en": "the cell is empty but column '{column}' is used for {purpose}",
        },
        "validate.require_empty_hint": {
            "vi": "điền giá trị, hoặc bỏ '{column}' khỏi {purpose}",
            "en": "fill it in, or drop '{column}' from {purpose}",
        },
        "validate.more_rows": {
            "vi": "{listed} … và {n} dòng khác",
            "en": "{listed} … and {n} more",
        },
    }
)

#: Rows listed in one message before "... and N more".
MAX_LISTED_ROWS = 10

_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-"})
_SPACES = "[ \u00a0\u202f]"
_EXP = r"(?:[eE][+-]?\d+)?"
_PATTERNS = {
    False: (
        re.compile(rf"[+-]?(?:\d+(?:\.\d*)?|\.\d+){_EXP}"),
        re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?"),
        re.compile(rf"[+-]?\d{{1,3}}(?:{_SPACES}\d{{3}})+(?:\.\d+)?"),
        re.compile(r"[+-]?\d{1,3}(?:\.\d{3}){2,}"),
    ),
    True: (
        re.compile(rf"[+-]?(?:\d+(?:,\d*)?|,\d+){_EXP}"),
        re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?"),
        re.compile(rf"[+-]?\d{{1,3}}(?:{_SPACES}\d{{3}})+(?:,\d+)?"),
    ),
}
_PLAIN = _PATTERNS[False][0]
_NONFINITE = re.compile(r"[+-]?(?:nan|inf|infinity|#num!|#div/0!)", re.IGNORECASE)


def parse_number(text: str, decimal_comma: bool = False) -> float | None:
    """The number written in ``text``, or None if it is not one (see module doc).

    ``NaN``/``inf`` text returns ``nan``/``inf`` so callers can report it.
    """
    text = text.strip()
    if not decimal_comma and _PLAIN.fullmatch(text):  # fast path: most cells
        return float(text)
    text = text.translate(_MINUS)
    if _NONFINITE.fullmatch(text):
        return math.inf if "inf" in text.lower() else math.nan
    for index, pattern in enumerate(_PATTERNS[decimal_comma]):
        if pattern.fullmatch(text):
            if decimal_comma:
                clean = re.sub(_SPACES, "", text)
                clean = clean.replace(".", "") if index else clean
                return float(clean.replace(",", "."))
            clean = re.sub(_SPACES, "", text).replace(",", "")
            return float(clean.replace(".", "")) if index == 3 else float(clean)
    return None


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
        listed = ", ".join(str(r) for r in rows[:MAX_LISTED_ROWS])
        if len(rows) > MAX_LISTED_ROWS:
            listed = tr(
                "validate.more_rows", listed=listed, n=len(rows) - MAX_LISTED_ROWS
            )
        self.warn(tr(key, n=len(rows), rows=listed), column)


def _list_rows(rows: Sequence[int]) -> str:
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
