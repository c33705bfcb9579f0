"""Report polish: flow colours follow the map, Excel status in words, rule keys in planner words."""

from __future__ import annotations

import dataclasses

import pytest
from matplotlib.colors import to_hex

import tests.report_helpers as h
from features.i18n import language
from optimizer.explain import MoveOption
from optimizer.plan import SolveStatus
from optimizer.rule_words import column_words, rule_words
from scenarios import charts
from scenarios.report_data import status_cell


def test_flow_uses_the_given_cluster_colours() -> None:
    """Bands take the colour given for their proposed cluster, not the label-order palette."""
    current = ["Cũ 1", "Cũ 1", "Cũ 2"]
    proposed = ["Cụm 2", "Cụm 1", "Cụm 1"]
    svg = charts.flow_svg(current, proposed, {"Cụm 1": "#ab0000", "Cụm 2": "#00cd00"})
    assert "#ab0000" in svg and "#00cd00" in svg
    default = charts.flow_svg(current, proposed)
    assert "#ab0000" not in default
    assert to_hex(charts.palette(2)[0]) in default


def test_plan_report_flow_matches_map_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan report colours each flow band with its cluster's map colour (palette by id)."""
    from scenarios import report_html

    seen: dict[str, object] = {}
    real = charts.flow_svg

    def spy(current, proposed, colours=None):  # type: ignore[no-untyped-def]
        seen.update(colours or {})
        return real(current, proposed, colours)

    monkeypatch.setattr(charts, "flow_svg", spy)
    result = h.result("r", h.COLS, cluster_labels=("Cụm B", "Cụm A"))
    report_html.render_plan_html(result, lang="vi")
    palette = charts.palette(2)
    assert seen == {"Cụm B": palette[0], "Cụm A": palette[1]}


def test_status_cell_words_then_code() -> None:
    """'Tối ưu (OPTIMAL)', 'Feasible (FEASIBLE)', no plan, and a restricted bound not called optimal."""
    optimal = h.result("a", h.ROWS)
    feasible = h.result("b", h.ROWS, status=SolveStatus.FEASIBLE)
    none = h.result("c", None)
    with language("vi"):
        assert status_cell(optimal) == "Tối ưu (OPTIMAL)"
        assert status_cell(none) == "Không có phương án (INFEASIBLE)"
    with language("en"):
        assert status_cell(feasible) == "Feasible (FEASIBLE)"
    assert optimal.plan is not None
    restricted = dataclasses.replace(
        optimal,
        plan=dataclasses.replace(optimal.plan, details={"bound_scope": "restricted"}),
    )
    with language("vi"):
        text = status_cell(restricted)
    assert text.endswith("(OPTIMAL)") and not text.startswith("Tối ưu")


@pytest.mark.parametrize(
    ("key", "vi", "en"),
    [
        ("balance:population", "cân bằng dân số", "population balance"),
        ("balance[population]", "cân bằng dân số", "population balance"),
        ("balance:hộ nghèo", "cân bằng hộ nghèo", "hộ nghèo balance"),
        ("max_size", "quy mô cụm tối đa", "maximum cluster size"),
        ("contiguous", "cụm liền mạch (liền kề)", "contiguous clusters"),
        ("fixed[01]", "cố định đơn vị 01", "unit 01 fixed to its cluster"),
        ("together[0]", "nhóm phải chung cụm", "kept-together group"),
        ("no_such_rule", "no_such_rule", "no_such_rule"),
    ],
)
def test_rule_words_vi_and_en(key: str, vi: str, en: str) -> None:
    """Rule keys of checks and rule instances read as planner words in both languages."""
    with language("vi"):
        assert rule_words(key) == vi
    with language("en"):
        assert rule_words(key) == en


def test_column_words_and_move_option_words() -> None:
    """Known columns get words, others keep their header; moves list broken rules in words."""
    with language("vi"):
        assert column_words("area_km2") == "diện tích"
        assert column_words("Dân số 2024") == "Dân số 2024"
        move = MoveOption(1, "Cụm 2", 0.5, ("min_size", "balance:population"), ())
        assert move.broken_words == ("quy mô cụm tối thiểu", "cân bằng dân số")
        assert move.broken == ("min_size", "balance:population")
