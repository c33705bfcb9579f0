"""Regenerate the XLSX fixtures of the bad-input corpus (``python make_xlsx.py``).

Why a script: workbooks are binary, so the committed files come from this one
place and anyone can see (and rebuild) exactly what each one contains. The
document properties are pinned so a rebuild changes nothing but the zip
timestamps.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent / "tables"
HEADER = ["unit_id", "name", "function", "region", "lat", "lon", "population"]
ROWS = [
    ["01", "Hà Nội", "thành phố", "Bắc", 21.03, 105.85, 8000],
    ["02", "Bắc Ninh", "công nghiệp", "Bắc", 21.18, 106.07, 2000],
    ["03", "Hải Phòng", "thành phố", "Bắc", 20.86, 106.68, 4000],
    ["04", "Phú Thọ", "nông nghiệp", "Bắc", 21.32, 105.40, 4000],
]
FIXED = dt.datetime(2026, 1, 1)


def _save(book: Workbook, name: str) -> None:
    book.properties.created = FIXED
    book.properties.modified = FIXED
    book.properties.creator = "cumkhoi tests"
    book.save(HERE / name)


def merged_header() -> None:
    """A two-row title header: 'Thông tin' merged over unit_id and name."""
    book = Workbook()
    sheet = book.active
    sheet.append(["Thông tin đơn vị", None, "Quy mô", None, None, None, None])
    sheet.merge_cells("A1:B1")
    sheet.merge_cells("C1:G1")
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    _save(book, "merged_header.xlsx")


def several_sheets() -> None:
    """A cover sheet first ('Hướng dẫn'), the units on the second sheet ('Đơn vị')."""
    book = Workbook()
    cover = book.active
    cover.title = "Hướng dẫn"
    cover.append(["Bảng đơn vị thi đua năm 2026 — xem trang 'Đơn vị'"])
    data = book.create_sheet("Đơn vị")
    data.append(HEADER)
    for row in ROWS:
        data.append(row)
    _save(book, "several_sheets.xlsx")


def numeric_ids() -> None:
    """Ids typed as numbers: Excel dropped the zeros (01 → 1), and 02 appears twice."""
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append([int(row[0]), *row[1:]])
    sheet.append([2.0, "Bắc Ninh (bản sao)", "công nghiệp", "Bắc", 21.18, 106.07, 2000])
    _save(book, "numeric_ids_duplicate.xlsx")


def empty_workbook() -> None:
    """A workbook whose only sheet is blank."""
    _save(Workbook(), "empty_sheet.xlsx")


def formula_cells() -> None:
    """Population cells are formulas and text ('=B2*2', 'N/A')."""
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for i, row in enumerate(ROWS):
        cells = list(row)
        if i == 1:
            cells[6] = "=G2*2"
        if i == 2:
            cells[6] = "N/A"
        sheet.append(cells)
    _save(book, "formula_and_text_numbers.xlsx")


if __name__ == "__main__":
    HERE.mkdir(parents=True, exist_ok=True)
    for build in (
        merged_header,
        several_sheets,
        numeric_ids,
        empty_workbook,
        formula_cells,
    ):
        build()
