"""Totals over columns with empty cells are shown as incomplete, never as a sum of the known values.

The bundled 34-province table leaves GRDP, budget revenue and income empty for
seven provinces (01 Hà Nội, 11 Điện Biên, 19, 24, 31, 48, 96). A fixed plan
(no solver) puts Hà Nội and Điện Biên in "Cụm 1" with six others.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import openpyxl
import pytest

from features.i18n import language
from optimizer.describe import describe_plan
from optimizer.plan import Assignment, Plan, SolveStatus
from scenarios.definition import BUNDLED_DIR, build_problem, load_scenarios
from scenarios.report_data import cluster_rows
from scenarios.report_html import render_plan_html
from scenarios.report_xlsx import write_plan_xlsx
from scenarios.result import ScenarioResult

GRDP = "grdp_2024_mn_vnd"


@pytest.fixture(scope="module")
def bundled() -> ScenarioResult:
    """The bundled table with a round-robin plan over 4 clusters, 01 and 11 both in cluster 0."""
    spec = load_scenarios(BUNDLED_DIR / "vn34-cum-lien-ke.toml")[0]
    problem = build_problem(spec)
    units = list(problem.profiles.unit_ids)
    labels = {u: i % 4 for i, u in enumerate(units)}
    labels["01"] = labels["11"] = 0
    plan = Plan(
        assignment=Assignment(labels=labels),
        cluster_labels=("Cụm 1", "Cụm 2", "Cụm 3", "Cụm 4"),
        status=SolveStatus.FEASIBLE,
        objective=10.0,
        bound=5.0,
        solve_seconds=0.1,
        seed=0,
    )
    return ScenarioResult(
        spec=spec,
        problem=problem,
        plan=plan,
        metrics={},
        checks={},
        manifest={"scenario": spec.name},
        error=None,
    )


def _cluster(result: ScenarioResult, label: str):
    return next(c for c in cluster_rows(result) if c.label == label)


def test_incomplete_total_is_nan_with_missing_count(bundled: ScenarioResult) -> None:
    """Cụm 1 holds Hà Nội and Điện Biên without GRDP: total NaN, 2 missing, population complete."""
    frame = bundled.problem.profiles.frame
    c1 = _cluster(bundled, "Cụm 1")
    members = [u for u, _ in c1.members]
    expected_missing = int(frame.loc[members, GRDP].isna().sum())
    assert expected_missing >= 2
    assert math.isnan(c1.totals[GRDP])
    assert c1.missing[GRDP] == expected_missing
    assert c1.totals["population"] == float(frame.loc[members, "population"].sum())
    assert "population" not in c1.missing
    known = frame.loc[members, GRDP].dropna()
    assert c1.means[GRDP] == pytest.approx(float(known.mean()))
    with language("vi"):
        assert c1.missing_text(GRDP) == f"thiếu {expected_missing}/{c1.size}"
    with language("en"):
        assert c1.missing_text(GRDP) == f"{expected_missing} of {c1.size} missing"
    assert c1.missing_text("population") == ""


def test_html_marks_incomplete_totals_vi_and_en(bundled: ScenarioResult) -> None:
    """The figures table shows — and 'thiếu k/n' (en 'k of n missing'), never the partial sum."""
    frame = bundled.problem.profiles.frame
    c1 = _cluster(bundled, "Cụm 1")
    members = [u for u, _ in c1.members]
    partial = float(frame.loc[members, GRDP].sum())
    k = c1.missing[GRDP]
    vi = render_plan_html(bundled, lang="vi")
    partial_vi = f"{partial:,.0f}".replace(",", ".")
    assert partial_vi not in vi
    assert f"(thiếu {k}/{c1.size})" in vi
    assert "chưa có số liệu" in vi
    en = render_plan_html(bundled, lang="en")
    assert f"{partial:,.0f}" not in en
    assert f"({k} of {c1.size} missing)" in en
    assert re.search(r"avg \(of the \d+ known\)", en)
    assert f"TB ({c1.size - k} đơn vị có số liệu)" in vi


def test_xlsx_leaves_incomplete_totals_blank(
    bundled: ScenarioResult, tmp_path: Path
) -> None:
    """The Clusters sheet leaves the GRDP total of Cụm 1 blank and says how many are missing."""
    path = write_plan_xlsx(bundled, tmp_path / "report.xlsx", lang="vi")
    ws = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))["Cụm"]
    headers = [c.value for c in ws[1]]
    total = headers.index(f"Tổng {GRDP}")
    assert headers[total + 1] == f"TB {GRDP} (đơn vị có số liệu)"
    missing = headers.index(f"Thiếu số liệu {GRDP} (tổng để trống)")
    row = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == "Cụm 1")
    c1 = _cluster(bundled, "Cụm 1")
    assert row[total] is None
    assert row[missing] == f"thiếu {c1.missing[GRDP]}/{c1.size}"
    pop = headers.index("Tổng population")
    assert row[pop] == c1.totals["population"]
    assert (
        "Tổng population" in headers
        and "Thiếu số liệu population (tổng để trống)" not in headers
    )


def test_descriptions_say_how_many_figures_are_missing(bundled: ScenarioResult) -> None:
    """A cluster description over GRDP says 'thiếu k/n' / 'k of n missing' beside the range."""
    c1 = _cluster(bundled, "Cụm 1")
    k = c1.missing[GRDP]
    with language("vi"):
        text = describe_plan(bundled.plan, bundled.problem.profiles, [GRDP])[c1.id]
    assert f"(thiếu {k}/{c1.size})" in text
    with language("en"):
        text = describe_plan(bundled.plan, bundled.problem.profiles, [GRDP])[c1.id]
    assert f"({k} of {c1.size} missing)" in text
    with language("en"):
        full = describe_plan(bundled.plan, bundled.problem.profiles, ["population"])
    assert all("missing" not in t for t in full.values())
