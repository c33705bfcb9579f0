"""HTML reports: offline, escaped, bilingual, numbers in the reader's format, deterministic."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import report_helpers as h

from features.i18n import language
from scenarios import charts
from scenarios.compare import compare
from scenarios.report import load_geojson, write_comparison_reports, write_plan_reports
from scenarios.report_data import fmt_number, rule_rows
from scenarios.report_html import render_comparison_html, render_plan_html

SHIFT = {"01": 0, "02": 0, "03": 1, "04": 1, "05": 1, "06": 1}
#: Anything that could make a browser fetch: absolute/protocol-relative URLs, CSS imports.
EXTERNAL = re.compile(
    r"https?:|ftp:|(?:src|href)\s*=\s*[\"']?//|url\((?!#)|@import", re.IGNORECASE
)


def _result(name: str = "hàng", labels: dict | None = None):
    return h.result(
        name,
        labels or h.ROWS,
        metrics={
            "dispersion": 0.3,
            "balance_dev:population": 0.571428,
            "units_moved": 0,
        },
    )


def test_fmt_number_vietnamese_and_english() -> None:
    """Vietnamese groups thousands with '.', decimal comma; English the other way."""
    assert fmt_number(1234567, "vi") == "1.234.567"
    assert fmt_number(1234567, "en") == "1,234,567"
    assert fmt_number(0.125, "vi") == "0,125"
    assert fmt_number(12.25, "en", 2) == "12.25"
    assert fmt_number(None, "vi") == "—"


def test_plan_html_is_offline_escaped_and_vietnamese() -> None:
    """No URL of any kind; unit names are escaped; headings in Vietnamese."""
    html = render_plan_html(_result(), lang="vi")
    assert not EXTERNAL.search(html)
    assert "&lt;b&gt;Hà Giang&lt;/b&gt;" in html and "<b>Hà Giang</b>" not in html
    assert "=SUM(A1:A2)" in html
    for heading in (
        "Phương án phân cụm: hàng",
        "Bản đồ các cụm",
        "Các cụm",
        "Cân bằng giữa các cụm",
        "Thay đổi so với cách chia hiện tại",
        "Vì sao phương án như thế này",
        "Quy tắc và kết quả kiểm tra",
        "Nhật ký kiểm toán",
    ):
        assert heading in html
    assert "@media print" in html and '<html lang="vi">' in html
    # cluster "Cụm A" = 01+02+03 → population 8+2+1 = 11, mean 3.67 → "3,67" in vi
    assert "3,67" in html


def test_plan_html_english() -> None:
    """--lang en gives English headings and English number format."""
    html = render_plan_html(_result(), lang="en")
    for heading in (
        "Clustering plan: hàng",
        "Map of the clusters",
        "Rules and whether they hold",
        "Audit record",
        "Changes from the current grouping",
    ):
        assert heading in html
    assert "3.67" in html
    assert "Bản đồ" not in html


def test_plan_html_is_deterministic() -> None:
    """The same result renders to the same bytes (SVG ids salted, no dates)."""
    assert render_plan_html(_result(), lang="vi") == render_plan_html(
        _result(), lang="vi"
    )


def test_rule_rows_report_achieved_values() -> None:
    """Balance: totals 11 and 5 around mean 8 → deviation 3/8 = 37.5 % > 20 % fails."""
    rows = {r["key"]: r for r in rule_rows(_result())}
    assert rows["count"]["holds"] is True
    assert rows["size"]["actual"] == "3–3" and rows["size"]["holds"] is True
    assert rows["balance"]["actual"] == pytest.approx(0.375)
    assert rows["balance"]["holds"] is False


def test_failed_check_marks_rule() -> None:
    """A check the runner reports as failing shows as failing, whatever the numbers."""
    result = h.result("x", h.ROWS, checks={"size": "violated"})
    rows = {r["key"]: r for r in rule_rows(result)}
    assert rows["size"]["holds"] is False


def test_infeasible_plan_has_no_plan_report(tmp_path: Path) -> None:
    """Nothing is written for a scenario without a plan."""
    assert write_plan_reports(h.result("x", None), tmp_path) == []
    with pytest.raises(ValueError):
        render_plan_html(h.result("x", None))


def test_comparison_html_lists_scenarios_verdicts_and_reason() -> None:
    """Every scenario appears, the infeasible one with its reason; units that differ listed."""
    comparison = compare(
        [
            _result("hàng"),
            h.result("dịch", SHIFT, metrics={"units_moved": 1}),
            h.result("không được", None),
        ]
    )
    html = render_comparison_html(comparison, lang="vi")
    assert not EXTERNAL.search(html)
    for text in (
        "So sánh các kịch bản phân cụm",
        "Kết luận nhanh",
        "Chỉ số từng kịch bản",
        "Các phương án khác nhau bao nhiêu",
        "Đơn vị được xếp khác nhau",
        "không có phương án: quy mô cụm tối đa",
        "Quảng Ninh",
        "ít xáo trộn nhất",
    ):
        assert text in html
    english = render_comparison_html(comparison, lang="en")
    assert "Comparison of clustering scenarios" in english and "Kết luận" not in english


def test_write_reports_creates_the_spec_files(tmp_path: Path) -> None:
    """Plan: report.html/.xlsx; comparison: .html/.xlsx/.json, all non-empty."""
    plan_files = write_plan_reports(_result(), tmp_path / "plan")
    cmp_files = write_comparison_reports(
        compare([_result(), h.result("b", SHIFT)]), tmp_path / "cmp"
    )
    assert [p.name for p in plan_files] == ["report.html", "report.xlsx"]
    assert [p.name for p in cmp_files] == [
        "comparison.html",
        "comparison.xlsx",
        "comparison.json",
    ]
    assert all(p.stat().st_size > 1000 for p in plan_files + cmp_files)
    assert not list((tmp_path / "plan").glob(".*.tmp"))


def test_geojson_fills_the_map(tmp_path: Path) -> None:
    """A FeatureCollection with unit ids draws filled polygons instead of dots."""
    features = [
        {
            "type": "Feature",
            "properties": {"unit_id": u},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]
                ],
            },
        }
        for u, x, y in (
            ("01", 0, 1),
            ("02", 1, 1),
            ("03", 2, 1),
            ("04", 0, 0),
            ("05", 1, 0),
            ("06", 2, 0),
        )
    ]
    path = tmp_path / "b.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    result = _result()
    boundaries = load_geojson(path)
    filled = charts.map_svg(result.problem, result.plan, geojson=boundaries)
    dots = charts.map_svg(result.problem, result.plan)
    assert filled is not None and dots is not None and filled != dots
    assert filled.count("<path") >= 6


def test_bad_geojson_is_input_error(tmp_path: Path) -> None:
    """A file that is not a FeatureCollection is a user error with the file named."""
    from features.errors import InputError

    path = tmp_path / "x.geojson"
    path.write_text("[1, 2]")
    with language("en"), pytest.raises(InputError, match="FeatureCollection"):
        load_geojson(path)


def test_restricted_bound_is_not_called_proven() -> None:
    """An OPTIMAL status over a candidate-restricted model is not sold as proven."""
    import dataclasses

    full = _result("đủ")
    plan = dataclasses.replace(full.plan, details={"bound_scope": "restricted"})
    restricted = dataclasses.replace(
        full, plan=plan, problem=dataclasses.replace(full.problem, name="thu hẹp")
    )
    html = render_plan_html(restricted, lang="vi")
    assert "đã chứng minh không có cách chia nào tốt hơn" not in html
    assert "không phải là bảo đảm tuyệt đối" in html
    assert "đã chứng minh không có cách chia nào tốt hơn" in render_plan_html(
        full, lang="vi"
    )
    comparison = compare([full, restricted])
    assert "proven" in comparison.verdicts["đủ"]
    assert "proven" not in comparison.verdicts["thu hẹp"]


def test_plan_html_explains_drivers_and_describes_clusters() -> None:
    """The why-section names what drives the plan; clusters get a one-line description."""
    html = render_plan_html(_result(), lang="en")
    assert "Why the plan looks like this" in html
    assert "population" in html and "100.0 %" in html  # the only criterion
    assert "3 units" in html  # optimizer.describe: "3 units, ..."


def test_clusters_listed_in_natural_label_order() -> None:
    """'Cụm 2' comes before 'Cụm 10'; each row keeps its cluster id (its colour)."""
    from scenarios.report_data import cluster_rows, natural_key

    assert sorted(["Cụm 10", "Cụm 2", "Cụm 1"], key=natural_key) == [
        "Cụm 1",
        "Cụm 2",
        "Cụm 10",
    ]
    result = h.result("x", h.ROWS, cluster_labels=("Cụm 10", "Cụm 2"))
    rows = cluster_rows(result)
    assert [(r.label, r.id) for r in rows] == [("Cụm 2", 1), ("Cụm 10", 0)]
    assert [r.totals["population"] for r in rows] == [5.0, 11.0]


def test_comparison_links_to_plan_reports_but_never_to_urls() -> None:
    """Relative links to each plan's report; absolute paths and URLs are dropped."""
    comparison = compare([_result("a"), h.result("b", SHIFT), h.result("c", None)])
    html = render_comparison_html(
        comparison,
        lang="vi",
        plan_links={"a": "a/report.html", "b": "https://example.org/x", "c": "/etc/x"},
    )
    assert '<a href="a/report.html">xem báo cáo</a>' in html
    assert not EXTERNAL.search(html)
    assert "/etc/x" not in html


def _with_note(result, note_key: str = "solve.exact_clock_stopped"):
    """``result`` whose plan carries the solver's real note, in Vietnamese."""
    import dataclasses

    import optimizer.solve  # noqa: F401  (registers the solver's notes)
    from features.i18n import tr

    with language("vi"):
        note = tr(note_key)
    return dataclasses.replace(
        result, plan=dataclasses.replace(result.plan, notes=(note,))
    ), note


def test_plan_html_shows_the_plans_notes() -> None:
    """A planner reads report.html, not plan.json: a 'rerun may differ' note must be there."""
    noted, note = _with_note(_result())
    html = render_plan_html(noted, lang="vi")
    assert note in html and "chạy lại có thể cho phương án khác" in html
    assert html.count('class="warn"') == 1
    assert 'class="warn"' not in render_plan_html(_result(), lang="vi")


def test_comparison_html_shows_each_plans_notes_on_its_row() -> None:
    """The note sits in the noted scenario's status cell only."""
    noted, note = _with_note(h.result("dịch", SHIFT, metrics={"units_moved": 1}))
    html = render_comparison_html(compare([_result("hàng"), noted]), lang="vi")
    assert html.count(note) == 1 and html.count('class="warn"') == 1
    row = next(r for r in html.split("<tr>") if "<b>dịch</b>" in r)
    assert note in row


def test_flow_chart_gives_way_to_a_note_when_clusters_are_too_many(monkeypatch) -> None:
    """Above FLOW_MAX_LABELS clusters a side, no hairline chart: a note points to the moves table."""
    drawn = render_plan_html(_result(), lang="vi")
    assert "Không vẽ sơ đồ luồng" not in drawn
    monkeypatch.setattr(charts, "FLOW_MAX_LABELS", 1)
    skipped = render_plan_html(_result(), lang="vi")
    assert "Không vẽ sơ đồ luồng: 2 cụm hiện tại và 2 cụm đề xuất" in skipped
    assert skipped.count("<svg") == drawn.count("<svg") - 1


def test_balance_chart_of_many_clusters_is_one_sorted_line() -> None:
    """Above BALANCE_BARS_MAX clusters: a fixed-height chart of sorted totals, not a bar each."""

    def height_pt(svg: str) -> float:
        return float(re.search(r'height="([\d.]+)pt"', svg).group(1))

    totals = np.linspace(90.0, 110.0, charts.BALANCE_BARS_MAX + 1)
    labels = [f"Cụm {i}" for i in range(len(totals))]
    many = charts.balance_svg(labels, totals, column="population", tol=0.1)
    bars = charts.balance_svg(labels[:-1], totals[:-1], column="population", tol=0.1)
    assert height_pt(many) < 300 < height_pt(bars)  # 3.2 in against 0.28 in a bar
    with_gap = totals.copy()
    with_gap[3] = np.nan  # a total left blank (a member without a figure) is not drawn
    assert height_pt(charts.balance_svg(labels, with_gap, column="population", tol=0.1)) < 300


def test_a_map_of_many_clusters_is_drawn_in_one_collection(monkeypatch) -> None:
    """Past the legend's 20 clusters every dot goes in one scatter (one per cluster took 313 s
    for 25 000 clusters) and every hull in one collection; the map still shows every unit."""
    from helpers import sample_problem
    from matplotlib.axes import Axes

    from optimizer.solve import solve

    problem = sample_problem(240, 30, 2.0, with_adjacency=False)
    plan = solve(problem)
    calls: list[int] = []
    real = Axes.scatter

    def counting(self, x, *args, **kwargs):
        calls.append(len(x))
        return real(self, x, *args, **kwargs)

    monkeypatch.setattr(Axes, "scatter", counting)
    svg = charts.map_svg(problem, plan)
    assert svg is not None and "Cụm 1" not in svg  # no legend at 30 clusters
    assert calls == [240]
