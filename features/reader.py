"""Reading a CSV or XLSX file into a :class:`RawTable` of text, exactly as saved.

Why so careful: planners export from Excel. Their CSVs come in UTF-8, UTF-8
with a byte-order mark, or the legacy Windows-1258 code page (which encodes
Vietnamese with *combining* accents, so every text is NFC-normalized); they
are separated by ``,`` or ``;``; ids like ``"01"`` must stay text. Every cell
is read as text here and interpreted only by :mod:`features.validate`, and
rows are numbered the way Excel shows them (header = row 1, first unit =
row 2). A missing, empty, binary or corrupt file is an :class:`InputError`
with a sentence, never a traceback. Split from :mod:`features.load` (module
size), which re-exports :class:`RawTable` and :func:`read_table`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import features.messages_load  # noqa: F401  (registers the load.* messages)
from features.errors import InputError, Problem
from features.i18n import tr
from features.limits import check_file_size

_XLSX_SUFFIXES = (".xlsx", ".xlsm")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls
_DELIMITERS = (",", ";", "\t", "|")  # the spec's two, plus Excel's tab and pipe
_SNIFF_LINES = 50


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
