"""Reading unit tables and adjacency files exactly as the planner saved them.

Why so careful: planners export from Excel. Their CSVs come in UTF-8, UTF-8
with a byte-order mark, or the legacy Windows-1258 code page (which encodes
Vietnamese with *combining* accents, so every text is NFC-normalized); they
are separated by ``,`` or ``;``; ids like ``"01"`` must stay text. Every cell
is read as text here and interpreted only by :mod:`features.validate`, and
rows are numbered the way Excel shows them (header = row 1, first unit =
row 2). A missing, empty, binary or corrupt file is an :class:`InputError`
with a sentence, never a traceback.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from features.errors import InputError, Problem, Report
from features.i18n import register, tr
from features.limits import check_file_size, check_unit_count
from features.types import ColumnMapping, Profiles, UnitId

register(
    {
        "load.not_found": {
            "vi": "không tìm thấy tệp",
            "en": "file not found",
        },
        "load.not_found_hint": {
            "vi": "kiểm tra lại đường dẫn và tên tệp",
            "en": "check the path and the file name",
        },
        "load.is_dir": {
            "vi": "đây là một thư mục, không phải tệp",
            "en": "this is a folder, not a file",
        },
        "load.is_dir_hint": {
            "vi": "chỉ ra tệp .csv hoặc .xlsx bên trong thư mục",
            "en": "name the .csv or .xlsx file inside the folder",
        },
        "load.empty": {"vi": "tệp rỗng", "en": "the file is empty"},
        "load.empty_hint": {
            "vi": "chọn đúng tệp: dòng 1 là tên cột, mỗi dòng sau là một đơn vị",
            "en": "pick the right file: row 1 names the columns, each later row is a unit",
        },
        "load.unreadable_hint": {
            "vi": "kiểm tra quyền đọc tệp và đóng tệp nếu chương trình khác đang khóa nó",
            "en": "check read permission, and close the file if another program locks it",
        },
        "load.unreadable": {
            "vi": "không đọc được tệp ({reason})",
            "en": "cannot read the file ({reason})",
        },
        "load.binary": {
            "vi": "tệp không phải bảng CSV hay Excel (.xlsx)",
            "en": "the file is neither a CSV table nor an Excel workbook (.xlsx)",
        },
        "load.resave_hint": {
            "vi": "mở tệp trong Excel và lưu lại dạng CSV UTF-8 hoặc .xlsx",
            "en": "open it in Excel and save it as CSV UTF-8 or .xlsx",
        },
        "load.encoding": {
            "vi": "không nhận ra bảng mã (chỉ hỗ trợ UTF-8 và Windows-1258)",
            "en": "unknown text encoding (UTF-8 and Windows-1258 are supported)",
        },
        "load.xls": {
            "vi": "tệp Excel đời cũ (.xls) không được hỗ trợ",
            "en": "old Excel files (.xls) are not supported",
        },
        "load.bad_xlsx": {
            "vi": "tệp .xlsx bị hỏng hoặc không đọc được ({reason})",
            "en": "the .xlsx file is damaged or unreadable ({reason})",
        },
        "load.no_sheet": {
            "vi": "không có trang tính '{sheet}'",
            "en": "there is no sheet '{sheet}'",
        },
        "load.no_sheet_hint": {
            "vi": "các trang tính có trong tệp: {sheets}",
            "en": "the workbook has these sheets: {sheets}",
        },
        "load.csv_error": {
            "vi": "lỗi cú pháp CSV ({reason})",
            "en": "CSV syntax error ({reason})",
        },
        "load.csv_unclosed": {
            "vi": "dấu ngoặc kép mở ở ô này không được đóng (đến dòng {line} vẫn chưa đóng)",
            "en": "a double quote opened in this row is never closed (still open at line {line})",
        },
        "load.mixed_encoding": {
            "vi": "tệp trộn hai bảng mã: các dòng {utf8} là UTF-8, các dòng {other} thì không "
            "(có lẽ Windows-1258)",
            "en": "the file mixes two text encodings: lines {utf8} are UTF-8, lines {other} "
            "are not (Windows-1258?)",
        },
        "load.csv_error_hint": {
            "vi": "kiểm tra dấu ngoặc kép; ô chứa dấu phân cách phải nằm trong ngoặc kép",
            "en": "check the quotes; a cell containing the separator must be quoted",
        },
        "load.no_header": {
            "vi": "dòng 1 trống; dòng 1 phải chứa tên các cột",
            "en": "row 1 is empty; row 1 must hold the column names",
        },
        "load.no_header_hint": {
            "vi": "xóa các dòng tiêu đề/ghi chú phía trên để tên cột nằm ở dòng 1",
            "en": "delete title or note rows above so the column names are in row 1",
        },
        "load.adj_columns": {
            "vi": "cần 2 cột (mã đơn vị A, mã đơn vị B) nhưng dòng chỉ có {n} cột",
            "en": "2 columns are needed (unit id A, unit id B) but the row has {n}",
        },
        "load.adj_empty": {
            "vi": "thiếu mã đơn vị",
            "en": "a unit id is missing",
        },
        "load.adj_empty_hint": {
            "vi": "mỗi dòng ghi hai mã đơn vị kề nhau",
            "en": "each row names two neighbouring unit ids",
        },
        "load.adj_unknown": {
            "vi": "mã đơn vị không có trong bảng đơn vị",
            "en": "unit id not in the unit table",
        },
        "load.adj_unknown_close": {
            "vi": "có phải {close}?",
            "en": "did you mean {close}?",
        },
        "load.adj_unknown_hint": {
            "vi": "dùng đúng mã ở cột mã đơn vị của bảng đơn vị",
            "en": "use the ids of the unit table's id column",
        },
        "load.adj_self": {
            "vi": "đơn vị '{unit}' được ghi là kề với chính nó",
            "en": "unit '{unit}' is paired with itself",
        },
        "load.adj_self_hint": {"vi": "xóa dòng này", "en": "delete this row"},
        "load.adj_repeat": {
            "vi": "cặp {a}–{b} đã có ở dòng {first}; hai dòng được gộp làm một",
            "en": "pair {a}–{b} already appears in row {first}; merged into one",
        },
    }
)

_XLSX_SUFFIXES = (".xlsx", ".xlsm")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls
_DELIMITERS = (",", ";", "\t", "|")  # the spec's two, plus Excel's tab and pipe
_SNIFF_LINES = 50


class InputWarning(UserWarning):
    """A soft defect of an input file (e.g. a repeated adjacency pair), merged or ignored."""


@dataclass(frozen=True, slots=True)
class RawTable:
    """A table as read: header and cells as NFC text, nothing interpreted yet.

    ``rows[i]`` has exactly ``len(header)`` cells (short rows are padded with
    ``""``) and sits on Excel row ``row_numbers[i]``; completely blank rows
    are skipped but keep the numbering. ``long_rows`` lists ``(row, n_cells)``
    for rows with non-empty cells beyond the header (often a wrong separator).
    ``decimal_comma`` tells the validator how to read numbers; numeric cells of
    an XLSX file are written in that same convention.
    """

    source: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    row_numbers: tuple[int, ...]
    decimal_comma: bool = False
    long_rows: tuple[tuple[int, int], ...] = ()
    encoding: str = ""
    delimiter: str | None = None
    sheet: str | None = None
    #: Excel rows 2-11 exactly as read (not cut to the header's width), so the
    #: validator can spot a header pushed down by title rows.
    top: tuple[tuple[str, ...], ...] = ()
    #: ``(sheet, row 1)`` of the workbook's other sheets when none was named.
    other_sheets: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    def column(self, index: int) -> list[str]:
        """Cells of column ``index`` in row order."""
        return [row[index] for row in self.rows]


def _fail(path: Path, key: str, hint: str = "", **params: object) -> InputError:
    return InputError([Problem(file=path.name, message=tr(key, **params), hint=hint)])


def _read_bytes(path: Path) -> bytes:
    """Bytes of ``path``, or an InputError saying why there are none."""
    path = Path(path)
    try:
        if not path.exists():
            raise _fail(path, "load.not_found", tr("load.not_found_hint"))
        if path.is_dir():
            raise _fail(path, "load.is_dir", tr("load.is_dir_hint"))
        # before reading: a wrong 2 GB file must not fill the memory
        check_file_size(path)
        data = path.read_bytes()
    except OSError as err:  # permissions, name too long, device errors
        raise _fail(
            path,
            "load.unreadable",
            tr("load.unreadable_hint"),
            reason=err.strerror or type(err).__name__,
        )
    if not data.strip():
        raise _fail(path, "load.empty", tr("load.empty_hint"))
    return data


def _decode(path: Path, data: bytes) -> tuple[str, str]:
    """Text and encoding name; UTF-8 (with or without BOM), UTF-16 BOM, else cp1258."""
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]  # Excel's "Unicode text"
    elif b"\x00" in data[:8192]:
        raise _fail(path, "load.binary", tr("load.resave_hint"))
    else:
        candidates = ["utf-8", "cp1258"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "cp1258":
            _refuse_mixed_encodings(path, data)
        if "\x00" in text:
            raise _fail(path, "load.binary", tr("load.resave_hint"))
        # cp1258 writes Vietnamese with combining accents: compose them.
        return unicodedata.normalize("NFC", text), encoding
    raise _fail(path, "load.encoding", tr("load.resave_hint"))


def _line_list(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:5])
    return shown + (f", … (+{len(numbers) - 5})" if len(numbers) > 5 else "")


def _refuse_mixed_encodings(path: Path, data: bytes) -> None:
    """Refuse a file whose lines are partly UTF-8 and partly another code page.

    Why: pasting rows from two exports gives such files; decoding all of it as
    Windows-1258 would silently turn the UTF-8 rows into mojibake ("HĂ  Ná»™i"),
    making new categories and unmatched ids instead of an error.
    """
    utf8: list[int] = []
    other: list[int] = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            other.append(number)
        else:
            utf8.append(number)
    if utf8 and other:
        raise _fail(
            path,
            "load.mixed_encoding",
            tr("load.resave_hint"),
            utf8=_line_list(utf8),
            other=_line_list(other),
        )


def _sniff_delimiter(text: str) -> str:
    """The separator that splits the first lines into the most consistent columns."""
    sample = text.splitlines()[:_SNIFF_LINES]
    best, best_score = ",", (-1, -1)
    for delimiter in _DELIMITERS:
        try:
            records = [r for r in csv.reader(sample, delimiter=delimiter) if any(r)]
        except csv.Error:
            continue
        if not records:
            continue
        width = len(records[0])
        consistent = sum(len(r) == width for r in records)
        score = (consistent if width > 1 else 0, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _parse_csv(path: Path, data: bytes) -> tuple[list[list[str]], str, str]:
    """All records of a CSV file as lists of NFC text (cells not yet stripped)."""
    text, encoding = _decode(path, data)
    first, _, rest = text.partition("\n")
    if len(first.strip()) == 5 and first.lower().startswith("sep="):
        # Excel's own separator line; Excel hides it, so row 1 is the next line.
        text = rest
        delimiter = first[4] if first[4] in _DELIMITERS else _sniff_delimiter(text)
    else:
        delimiter = _sniff_delimiter(text)
    records: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records.extend(reader)
    except csv.Error as err:
        raise _fail(path, "load.csv_error", tr("load.csv_error_hint"), reason=str(err))
    if records and text.count('"') % 2 and _unclosed_quote(text, delimiter):
        # the csv module reads an unclosed quote to the end of the file as one
        # cell, silently swallowing every later row: refuse instead.
        start = len(records)
        raise InputError(
            [
                Problem(
                    file=path.name,
                    row=start,
                    message=tr("load.csv_unclosed", line=reader.line_num),
                    hint=tr("load.csv_error_hint"),
                )
            ]
        )
    return records, encoding, delimiter


def _unclosed_quote(text: str, delimiter: str) -> bool:
    """True when the strict CSV grammar hits the end of the file inside a quote."""
    try:
        for _ in csv.reader(
            io.StringIO(text, newline=""), delimiter=delimiter, strict=True
        ):
            pass
    except csv.Error as err:
        return "end of data" in str(err)
    return False


def _cell_text(value: object, decimal_comma: bool) -> str:
    """An XLSX cell as the text the planner sees (numbers in the file's convention)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = (
            str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
        )
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return unicodedata.normalize("NFC", str(value))


def _first_rows(worksheet: Any, decimal_comma: bool) -> tuple[str, ...]:
    """Row 1 of a sheet as text (to tell the planner which sheet holds the table)."""
    for row in worksheet.iter_rows(max_row=1, values_only=True):
        return tuple(_cell_text(v, decimal_comma).strip() for v in row)
    return ()


def _parse_xlsx(
    path: Path, sheet: str | None, decimal_comma: bool
) -> tuple[list[list[str]], str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """All rows of one sheet (the first unless named) as lists of text.

    When no sheet is named, row 1 of every other sheet comes along, so a table
    on the second sheet can be pointed at instead of reported as missing.
    """
    import openpyxl  # deferred: only XLSX users pay for the import

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # noqa: BLE001 - a corrupt workbook fails anywhere inside openpyxl
        raise _fail(
            path, "load.bad_xlsx", tr("load.resave_hint"), reason=type(err).__name__
        )
    try:
        names = list(workbook.sheetnames)
        if sheet is not None and sheet not in names:
            hint = tr("load.no_sheet_hint", sheets=", ".join(repr(n) for n in names))
            raise _fail(path, "load.no_sheet", hint, sheet=sheet)
        if not names:
            raise _fail(path, "load.empty", tr("load.empty_hint"))
        worksheet = workbook[sheet if sheet is not None else names[0]]
        try:
            records = [
                [_cell_text(v, decimal_comma) for v in row]
                for row in worksheet.iter_rows(values_only=True)
            ]
            others = tuple(
                (str(name), _first_rows(workbook[name], decimal_comma))
                for name in names
                if sheet is None and name != worksheet.title
            )
        except Exception as err:  # noqa: BLE001 - damaged sheet XML, same reason
            raise _fail(
                path, "load.bad_xlsx", tr("load.resave_hint"), reason=type(err).__name__
            )
        return records, str(worksheet.title), others
    finally:
        workbook.close()


def _read_records(
    path: Path, sheet: str | None, decimal_comma: bool
) -> tuple[list[list[str]], dict[str, object]]:
    """Records of a CSV or XLSX file plus how it was read."""
    path = Path(path)
    data = _read_bytes(path)
    if data.startswith(_OLE_MAGIC) or path.suffix.lower() == ".xls":
        raise _fail(path, "load.xls", tr("load.resave_hint"))
    if data.startswith(_ZIP_MAGIC) or path.suffix.lower() in _XLSX_SUFFIXES:
        records, title, others = _parse_xlsx(path, sheet, decimal_comma)
        how: dict[str, object] = {
            "encoding": "xlsx",
            "delimiter": None,
            "sheet": title,
            "others": others,
        }
        return records, how
    records, encoding, delimiter = _parse_csv(path, data)
    return records, {"encoding": encoding, "delimiter": delimiter, "sheet": None}


def read_table(
    path: str | Path, *, sheet: str | None = None, decimal_comma: bool = False
) -> RawTable:
    """Read a CSV or XLSX table as text, without interpreting any cell.

    Parameters
    ----------
    path
        CSV (UTF-8, UTF-8 with BOM or Windows-1258; ``,``, ``;`` or tab
        separated, sniffed) or XLSX file. Row 1 holds the column names.
    sheet
        XLSX sheet to read; the first sheet when None. Ignored for CSV.
    decimal_comma
        Numbers use ``,`` as the decimal mark (``1.234,5``); recorded for the
        validator, and applied to numeric XLSX cells when turning them to text.

    Returns
    -------
    RawTable
        Header and rows as NFC text with their Excel row numbers.

    Raises
    ------
    InputError
        The file is missing, a folder, empty, binary, in an unknown encoding,
        a damaged workbook, lacks the named sheet, or row 1 is empty.
    """
    path = Path(path)
    records, how = _read_records(path, sheet, decimal_comma)
    if not records or not any(cell.strip() for cell in records[0]):
        if not any(any(c.strip() for c in r) for r in records):
            raise _fail(path, "load.empty", tr("load.empty_hint"))
        raise _fail(path, "load.no_header", tr("load.no_header_hint"))
    header = [cell.strip() for cell in records[0]]
    used = max(
        [i + 1 for i, h in enumerate(header) if h]
        + [
            i + 1
            for r in records[1:]
            for i, c in enumerate(r[: len(header)])
            if c.strip()
        ]
    )
    header = header[:used]
    rows: list[tuple[str, ...]] = []
    numbers: list[int] = []
    long_rows: list[tuple[int, int]] = []
    for excel_row, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        if any(cell.strip() for cell in record[used:]):
            filled = max(i + 1 for i, c in enumerate(record) if c.strip())
            long_rows.append((excel_row, filled))
        cells = list(record[:used]) + [""] * (used - len(record))
        rows.append(tuple(cells))
        numbers.append(excel_row)
    return RawTable(
        source=path.name,
        header=tuple(header),
        rows=tuple(rows),
        row_numbers=tuple(numbers),
        decimal_comma=decimal_comma,
        long_rows=tuple(long_rows),
        encoding=str(how["encoding"]),
        delimiter=how["delimiter"],  # type: ignore[arg-type]
        sheet=how["sheet"],  # type: ignore[arg-type]
        top=tuple(tuple(r) for r in records[1:11]),
        other_sheets=how.get("others", ()),  # type: ignore[arg-type]
    )


def load_units(
    path: str | Path,
    *,
    mapping: ColumnMapping = ColumnMapping(),  # noqa: B008 - frozen, safe default
    sheet: str | None = None,
    decimal_comma: bool = False,
) -> Profiles:
    """Read and validate a unit table (see :func:`features.validate.validate_profiles`).

    Raises
    ------
    InputError
        Listing every defect of the file at once.
    """
    from features.validate import (
        validate_profiles,  # validate imports RawTable from here
    )

    raw = read_table(path, sheet=sheet, decimal_comma=decimal_comma)
    check_unit_count(raw.n_rows, raw.source)  # configurable: features/limits.py
    return validate_profiles(raw, mapping)


_LOOK_ALIKE = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1"})


def _suggest(value: str, known: Sequence[str], known_set: set[str]) -> str:
    """A did-you-mean hint: lost zeros and look-alikes (O for 0) first, then difflib."""
    for candidate in (value, value.translate(_LOOK_ALIKE)):
        for width in range(len(candidate), len(candidate) + 4):
            padded = candidate.zfill(width)
            if candidate.isdigit() and padded != value and padded in known_set:
                return tr("load.adj_unknown_close", close=repr(padded))
    close = difflib.get_close_matches(value, known, n=3, cutoff=0.6)
    if close:
        return tr("load.adj_unknown_close", close=" / ".join(repr(c) for c in close))
    return tr("load.adj_unknown_hint")


def load_adjacency(
    path: str | Path, unit_ids: Sequence[UnitId]
) -> list[tuple[UnitId, UnitId]]:
    """Read undirected neighbour pairs from the first two columns of a CSV/XLSX file.

    The header is optional: the first row is taken as a header when neither of
    its two values is a known unit id (a row with one known id is data, so a
    typo in the first pair is reported rather than swallowed). Ids are NFC
    text, compared after stripping spaces.

    Parameters
    ----------
    path
        The adjacency file (``a,b`` or ``u,v`` header, or none).
    unit_ids
        Ids of the validated unit table.

    Returns
    -------
    list of (UnitId, UnitId)
        One pair per distinct neighbour relation, in file order and orientation.
        Repeated pairs (in either orientation) are merged with an
        :class:`InputWarning`.

    Raises
    ------
    InputError
        Every row naming an unknown id (with a did-you-mean), a unit paired with
        itself, an empty id, or fewer than two columns.
    """
    path = Path(path)
    records, _ = _read_records(path, None, False)
    known = [str(u) for u in unit_ids]
    known_set = set(known)
    report = Report()
    source = path.name
    start = 0
    first = [c.strip() for c in (records[0] if records else [])][:2]
    if len(first) == 2 and first[0] not in known_set and first[1] not in known_set:
        start = 1
    pairs: list[tuple[UnitId, UnitId]] = []
    seen: dict[frozenset[str], int] = {}
    for excel_row, record in enumerate(records[start:], start=start + 1):
        cells = [c.strip() for c in record]
        if not any(cells):
            continue
        if len(cells) < 2:
            report.add(
                Problem(
                    source,
                    tr("load.adj_columns", n=len(cells)),
                    row=excel_row,
                    hint=tr("load.adj_empty_hint"),
                )
            )
            continue
        a, b = cells[0], cells[1]
        key = frozenset((a, b))
        if a != b and a in known_set and b in known_set and key not in seen:
            seen[key] = excel_row  # the common case, checked first for speed
            pairs.append((a, b))
            continue
        bad = False
        for column, value in zip(("A", "B"), (a, b), strict=True):
            if not value:
                report.add(
                    Problem(
                        source,
                        tr("load.adj_empty"),
                        excel_row,
                        column,
                        hint=tr("load.adj_empty_hint"),
                    )
                )
                bad = True
            elif value not in known_set:
                report.add(
                    Problem(
                        source,
                        tr("load.adj_unknown"),
                        excel_row,
                        column,
                        value,
                        _suggest(value, known, known_set),
                    )
                )
                bad = True
        if bad:
            continue
        if a == b:
            report.add(
                Problem(
                    source,
                    tr("load.adj_self", unit=a),
                    excel_row,
                    None,
                    a,
                    tr("load.adj_self_hint"),
                )
            )
            continue
        if key in seen:
            message = tr("load.adj_repeat", a=a, b=b, first=seen[key])
            report.add(Problem(source, message, row=excel_row, severity="warning"))
            continue
        seen[key] = excel_row
        pairs.append((a, b))
    report.raise_if_errors(source)
    for problem in report.problems:
        warnings.warn(problem.render(), InputWarning, stacklevel=2)
    return pairs
