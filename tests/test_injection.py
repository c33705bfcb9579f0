"""Hostile text in the unit table and scenario: outputs stay inert and inside the output folder.

One hostile table (script tags, event-handler attributes, spreadsheet formulas
and DDE payloads in names, functions, regions, ids and current clusters) is
planned once through the CLI; the tests then read every output back the way a
browser, Excel or a script would.
"""

from __future__ import annotations

import csv
import json
import os
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from scenarios.cli import main

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
BOLD = "<b onmouseover=alert(3)>Nam</b>"
DDE = "=cmd|' /C calc'!A0"
LINK = '=HYPERLINK("http://evil.example","bấm")'
FORMULA_STARTS = ("=", "+", "-", "@")

UNITS = f"""unit_id,name,function,region,population,current_cluster
01,{SCRIPT},"{IMG}",Bắc,8000,{DDE}
02,"{LINK.replace('"', '""')}",nông nghiệp,Bắc,2000,{DDE}
03,+1+1,công nghiệp,"{BOLD}",4000,@SUM(1+1)
04,-2+3,du lịch,"{BOLD}",4000,@SUM(1+1)
05,@SUM(A1:A9),thành phố,"{BOLD}",3000,{DDE}
06,"Tab\tstart",nông nghiệp,Bắc,3000,@SUM(1+1)
=07,Ninh Bình,du lịch,"{BOLD}",3000,@SUM(1+1)
"""
HOSTILE_NAME = "../../etc/x <script>alert(4)</script>"
SCENARIO = f"""name = "{HOSTILE_NAME}"
[data]
units = "units.csv"
[clusters]
count = 2
[rules]
fixed = {{ "04" = "=1+2" }}
[solver]
time_limit = 10
"""


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``cumkhoi plan`` without ``-o`` on the hostile table; returns (work dir, output dir)."""
    work = tmp_path_factory.mktemp("hostile")
    (work / "units.csv").write_text(UNITS, encoding="utf-8")
    (work / "s.toml").write_text(SCENARIO, encoding="utf-8")
    before = os.getcwd()
    os.chdir(work)
    try:
        result = CliRunner().invoke(main, ["--lang", "en", "plan", "s.toml", "--quiet"])
    finally:
        os.chdir(before)
    assert result.exit_code == 0, result.output
    folders = list((work / "cumkhoi-out").iterdir())
    assert len(folders) == 1
    return work, folders[0]


class _Collector(HTMLParser):
    """Every tag, attribute and script body of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def test_files_stay_inside_the_output_folder(hostile_run: tuple[Path, Path]) -> None:
    """A scenario named '../../etc/x …' writes only under ./cumkhoi-out/<ascii slug>/."""
    work, out = hostile_run
    assert out.parent == work / "cumkhoi-out"
    assert out.name.isascii() and "/" not in out.name and ".." not in out.name
    files = {p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file()}
    outside = {
        f
        for f in files
        if not f.startswith("cumkhoi-out/") and f not in ("units.csv", "s.toml")
    }
    assert not outside
    assert {p.name for p in out.iterdir()} >= {
        "assignment.csv",
        "plan.json",
        "report.html",
    }
    assert not (work.parent / "etc").exists()


def test_html_report_runs_no_injected_script(hostile_run: tuple[Path, Path]) -> None:
    """Names, regions, functions and labels appear as text; no injected tag, handler or script."""
    _, out = hostile_run
    html = (out / "report.html").read_text("utf-8")
    page = _Collector()
    page.feed(html)
    handlers = [
        (tag, name)
        for tag, attrs in page.tags
        for name, _ in attrs
        if name.startswith("on")
    ]
    assert not handlers
    assert "img" not in {tag for tag, _ in page.tags}
    assert not any("alert(" in body for body in page.scripts)
    assert SCRIPT not in html and "<script>alert(4)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, as text
    assert "onerror=alert(2)" not in html.replace(
        "&lt;img src=x onerror=alert(2)&gt;", ""
    )


def _workbook_cells(path: Path) -> list[openpyxl.cell.cell.Cell]:
    book = openpyxl.load_workbook(
        path
    )  # formulas are kept as formulas (data_only=False)
    return [
        cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
    ]


def test_xlsx_report_holds_text_not_formulas(hostile_run: tuple[Path, Path]) -> None:
    """Every cell of report.xlsx starting with = + - @ is a string cell, never a formula."""
    _, out = hostile_run
    cells = _workbook_cells(out / "report.xlsx")
    risky = [
        c
        for c in cells
        if isinstance(c.value, str) and c.value.startswith(FORMULA_STARTS)
    ]
    assert risky, "the hostile names must reach the workbook"
    assert all(c.data_type == "s" for c in risky), [
        (c.coordinate, c.value) for c in risky if c.data_type != "s"
    ]
    assert not [c for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert LINK in texts and DDE in texts and SCRIPT in texts


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("name", ["assignment.csv", "clusters.csv"])
def test_csv_cells_are_neutralised(hostile_run: tuple[Path, Path], name: str) -> None:
    """No CSV text cell starts with = + - @ (a leading ' is added, README); numbers are untouched."""
    _, out = hostile_run
    rows = _csv_rows(out / name)
    for row in rows[1:]:
        for cell in row:
            if cell.startswith(FORMULA_STARTS):
                float(cell)  # only a (negative) number may start so


def test_csv_keeps_the_text_readable(hostile_run: tuple[Path, Path]) -> None:
    """The neutralised cells still carry the original text after the quote mark."""
    _, out = hostile_run
    rows = {r[0]: r for r in _csv_rows(out / "assignment.csv")[1:]}
    assert rows["02"][1] == "'" + LINK
    assert rows["03"][1] == "'+1+1"
    assert rows["'=07"][1] == "Ninh Bình"
    assert rows["01"][1] == SCRIPT  # harmless in a CSV: shown as text
    assert len(rows) == 7


def test_plan_json_keeps_exact_text(hostile_run: tuple[Path, Path]) -> None:
    """plan.json is data for scripts: the exact ids and labels, every unit once."""
    _, out = hostile_run
    document = json.loads((out / "plan.json").read_text("utf-8"))
    assert document["scenario"] == HOSTILE_NAME
    members = [m for cluster in document["clusters"] for m in cluster["members"]]
    assert sorted(members) == sorted(["01", "02", "03", "04", "05", "06", "=07"])
    assert "=1+2" in {cluster["label"] for cluster in document["clusters"]}


def test_compare_names_cannot_escape_or_collide(tmp_path: Path) -> None:
    """Two hostile scenarios with the same name get two folders inside the comparison folder."""
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    (tmp_path / "a.toml").write_text(
        SCENARIO.replace("[rules]\nfixed", "[rules]\n#"), encoding="utf-8"
    )
    (tmp_path / "b.toml").write_text(
        SCENARIO.replace("count = 2", "count = 3").replace(
            "[rules]\nfixed", "[rules]\n#"
        ),
        encoding="utf-8",
    )
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        main,
        [
            "compare",
            str(tmp_path / "a.toml"),
            str(tmp_path / "b.toml"),
            "-o",
            str(out),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(p.parent == tmp_path or out in p.parents for p in written)
    folders = [p for p in out.iterdir() if p.is_dir()]
    assert len(folders) == 2 and len({p.name for p in folders}) == 2
    html = (out / "comparison.html").read_text("utf-8")
    assert "<script>alert(4)" not in html
    cells = _workbook_cells(out / "comparison.xlsx")
    assert not [c for c in cells if c.data_type == "f"]
    assert HOSTILE_NAME in {c.value for c in cells}


MARKUP_UNITS = """unit_id,name,function,region,lat,lon,population,current_cluster
01,[/b],$a^$,$\\x$,21.0,105.8,8000,$\\frac{$
02,[bold]B[/],b,$\\x$,21.1,106.0,2000,$\\frac{$
03,{0} %s {name},$^^$,[red]N,20.8,106.6,4000,[/]
04,$\\frac{1$,d,[red]N,21.3,105.4,4000,[/]
"""


def test_console_markup_and_tex_in_names_are_plain_text(tmp_path: Path) -> None:
    """Rich markup ('[/b]'), TeX ('$\\frac{') and format fields in names print and chart as text."""
    (tmp_path / "units.csv").write_text(MARKUP_UNITS, encoding="utf-8")
    (tmp_path / "s.toml").write_text(
        '[data]\nunits = "units.csv"\n[clusters]\ncount = 2\n[balance]\npopulation = 0.5\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["--lang", "en", "plan", str(tmp_path / "s.toml"), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (
        "[/b]" in result.output and "[bold]B[/]" in result.output
    )  # shown, not interpreted
    assert {p.name for p in out.iterdir()} == {
        "assignment.csv",
        "clusters.csv",
        "plan.json",
        "report.html",
        "report.xlsx",
    }
    html = (out / "report.html").read_text("utf-8")
    assert "{0} %s {name}" in html and "$\\frac{1$" in html
    explained = CliRunner().invoke(
        main, ["--lang", "en", "explain", str(out), "--unit", "01"]
    )
    assert explained.exit_code == 0, explained.output
    assert "[/b]" in explained.output
