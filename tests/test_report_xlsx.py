"""Excel reports read back with openpyxl: sheets, headers, text intact, no formulas."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import report_helpers as h

from scenarios.compare import compare
from scenarios.report_xlsx import write_comparison_xlsx, write_plan_xlsx

SHIFT = {"01": 0, "02": 0, "03": 1, "04": 1, "05": 1, "06": 1}


@pytest.fixture(scope="module")
def plan_book(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    """report.xlsx of the six-unit plan (rows of the grid), in Vietnamese."""
    path = tmp_path_factory.mktemp("xlsx") / "report.xlsx"
    write_plan_xlsx(
        h.result("hàng", h.ROWS, metrics={"dispersion": 0.3}), path, lang="vi"
    )
    return openpyxl.load_workbook(path)


def test_plan_sheets_one_per_topic(plan_book: openpyxl.Workbook) -> None:
    """Summary, clusters, units, moves, rules, manifest — in Vietnamese."""
    assert plan_book.sheetnames == [
        "Tổng quan",
        "Cụm",
        "Đơn vị",
        "Di chuyển",
        "Quy tắc",
        "Nhật ký",
    ]


def test_plan_units_sheet_headers_and_text(plan_book: openpyxl.Workbook) -> None:
    """Headers styled and frozen; names intact; '=SUM' stored as text, not a formula."""
    ws = plan_book["Đơn vị"]
    headers = [c.value for c in ws[1]]
    assert headers[:5] == [
        "Mã",
        "Tên đơn vị",
        "Cụm đề xuất",
        "Cụm hiện tại",
        "Chuyển cụm",
    ]
    assert "population" in headers
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:H7"
    assert ws["A1"].font.bold
    names = {ws.cell(r, 1).value: ws.cell(r, 2) for r in range(2, 8)}
    assert names["01"].value == "Hà Nội"
    assert names["04"].value == "=SUM(A1:A2)" and names["04"].data_type == "s"
    assert names["06"].value == "<b>Hà Giang</b>"
    assert ws.cell(2, 1).value == "01"  # leading zero kept: ids are text


def test_plan_clusters_sheet_totals_and_chart(plan_book: openpyxl.Workbook) -> None:
    """Cluster totals are numbers (8+2+1 = 11, 1+3+1 = 5) with a native chart."""
    ws = plan_book["Cụm"]
    assert [c.value for c in ws[1]][:5] == [
        "Cụm",
        "Số đơn vị",
        "Chức năng chính",
        "Vùng chính",
        "Tổng population",
    ]
    assert [ws.cell(r, 5).value for r in (2, 3)] == [11, 5]
    assert len(ws._charts) == 1


def test_plan_rules_and_manifest(plan_book: openpyxl.Workbook) -> None:
    """Rules say whether each holds; the manifest keeps the input hash."""
    rules = plan_book["Quy tắc"]
    verdicts = {
        rules.cell(r, 1).value: rules.cell(r, 4).value
        for r in range(2, rules.max_row + 1)
    }
    assert verdicts["Số cụm"] == "Đạt"
    assert verdicts["Tổng dân số mỗi cụm trong ±20% của trung bình"] == "Không đạt"
    manifest = {
        c[0].value: c[1].value for c in plan_book["Nhật ký"].iter_rows(min_row=2)
    }
    assert manifest["inputs.units.csv"] == "sha256:abc"
    assert manifest["status"] == "OPTIMAL"


def test_plan_english(tmp_path: Path) -> None:
    """lang='en' names sheets and headers in English."""
    path = tmp_path / "r.xlsx"
    write_plan_xlsx(h.result("rows", h.ROWS), path, lang="en")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [
        "Summary",
        "Clusters",
        "Units",
        "Moves",
        "Rules",
        "Manifest",
    ]


def test_comparison_workbook(tmp_path: Path) -> None:
    """Metrics per scenario, distances, differing units; infeasible row kept."""
    path = tmp_path / "comparison.xlsx"
    comparison = compare(
        [
            h.result("hàng", h.ROWS, metrics={"dispersion": 0.3}),
            h.result("dịch", SHIFT, metrics={"dispersion": 0.2}),
            h.result("không được", None),
        ]
    )
    write_comparison_xlsx(comparison, path, lang="vi")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [
        "Tổng quan",
        "Chỉ số",
        "Biểu đồ",
        "Khoảng cách",
        "Đơn vị khác nhau",
    ]
    summary = book["Tổng quan"]
    assert [summary.cell(r, 1).value for r in (2, 3, 4)] == [
        "hàng",
        "dịch",
        "không được",
    ]
    assert summary.cell(2, 2).value == "Tối ưu (OPTIMAL)"
    assert summary.cell(4, 2).value == "Không có phương án (INFEASIBLE)"
    assert summary.cell(4, 4).value.startswith("không có phương án")
    distances = book["Khoảng cách"]
    assert [c.value for c in distances[2]] == ["hàng", "dịch", 1, pytest.approx(1.0)]
    differing = book["Đơn vị khác nhau"]
    assert [c.value for c in differing[2]] == ["03", "Quảng Ninh", "Cụm A", "Cụm B"]
    assert len(book["Biểu đồ"]._charts) >= 2


def test_plan_and_comparison_workbooks_show_the_plans_notes(tmp_path: Path) -> None:
    """A note ('rerun may differ') reaches the Excel summary of the plan and the comparison."""
    import dataclasses

    import optimizer.solve  # noqa: F401  (registers the solver's notes)
    from features.i18n import language, tr

    with language("vi"):
        note = tr("solve.exact_clock_stopped")
    plain = h.result("hàng", h.ROWS, metrics={"dispersion": 0.3})
    named = h.result("có lưu ý", h.ROWS, metrics={"dispersion": 0.3})
    noted = dataclasses.replace(named, plan=dataclasses.replace(named.plan, notes=(note,)))
    write_plan_xlsx(noted, tmp_path / "report.xlsx", lang="vi")
    summary = openpyxl.load_workbook(tmp_path / "report.xlsx")["Tổng quan"]
    rows = [(r[0].value, r[1].value) for r in summary.iter_rows(min_row=2)]
    assert ("Lưu ý", note) in rows
    assert summary.cell(6, 1).value == "Sai số tối ưu"  # the gap row stays where it was
    write_plan_xlsx(plain, tmp_path / "plain.xlsx", lang="vi")
    plain_rows = openpyxl.load_workbook(tmp_path / "plain.xlsx")["Tổng quan"]
    assert "Lưu ý" not in [r[0].value for r in plain_rows.iter_rows(min_row=2)]

    shifted = h.result("dịch", SHIFT, metrics={"dispersion": 0.2})
    write_comparison_xlsx(compare([plain, noted, shifted]), tmp_path / "c.xlsx", lang="vi")
    summary = openpyxl.load_workbook(tmp_path / "c.xlsx")["Tổng quan"]
    assert summary.cell(1, 5).value == "Lưu ý"
    assert [summary.cell(r, 5).value for r in (2, 3, 4)] == [None, note, None]
