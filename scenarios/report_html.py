"""Self-contained HTML reports a planner can read, print and send to a council.

One file, inline CSS and inline SVG charts, no request to any network (no CDN,
no web font): the report must open on an offline office PC years later and
look the same. Templates live in ``scenarios/templates`` (jinja2 with
autoescape on, so unit names such as ``<b>`` or ``=SUM()`` are shown, never
run). Numbers follow the reader's language (``1.234.567,5`` in Vietnamese).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import jinja2
from matplotlib.colors import to_hex

from features.i18n import has_message, language, register, tr
from optimizer.describe import describe_plan
from optimizer.explain import summarize_plan
from optimizer.plan import SolveStatus
from scenarios import charts
from scenarios.compare import Comparison
from scenarios.report_data import (
    ClusterRow,
    cluster_rows,
    fmt_number,
    manifest_rows,
    metric_order,
    metric_title,
    rule_rows,
    unit_rows,
)
from scenarios.result import ScenarioResult

register(
    {
        "html.footer": {
            "vi": "Lập bởi cumkhoi {version}. Tệp này tự chứa, mở được khi không có mạng.",
            "en": "Made by cumkhoi {version}. This file is self-contained and works offline.",
        },
        "html.plan.title": {
            "vi": "Phương án phân cụm: {name}",
            "en": "Clustering plan: {name}",
        },
        "html.status.optimal": {
            "vi": "Phương án tối ưu: đã chứng minh không có cách chia nào tốt hơn theo các quy tắc này.",
            "en": "Optimal plan: proven that no grouping under these rules is better.",
        },
        "html.status.feasible": {
            "vi": "Phương án hợp lệ, đáp ứng mọi quy tắc; có thể tốt hơn tối đa {gap} so với phương án này.",
            "en": "Valid plan meeting every rule; a better plan could be at most {gap} better.",
        },
        "html.status.short.OPTIMAL": {"vi": "Tối ưu", "en": "Optimal"},
        "html.status.short.FEASIBLE": {
            "vi": "Khả thi (sai số {gap})",
            "en": "Feasible (gap {gap})",
        },
        "html.status.short.none": {"vi": "Không có phương án", "en": "No plan"},
        "html.units": {"vi": "đơn vị", "en": "units"},
        "html.clusters": {"vi": "cụm", "en": "clusters"},
        "html.gap": {"vi": "Sai số tối ưu (gap)", "en": "Optimality gap"},
        "html.moved": {"vi": "đơn vị chuyển cụm", "en": "units moved"},
        "html.plan.h.summary": {"vi": "Tóm tắt chỉ số", "en": "Key figures"},
        "html.plan.h.map": {"vi": "Bản đồ các cụm", "en": "Map of the clusters"},
        "html.plan.map_note": {
            "vi": "Mỗi chấm là một đơn vị, tô màu theo cụm; đường xám nối các đơn vị liền kề; vùng mờ bao quanh mỗi cụm.",
            "en": "Each dot is a unit coloured by cluster; grey lines join neighbours; shaded areas enclose each cluster.",
        },
        "html.plan.h.clusters": {"vi": "Các cụm", "en": "The clusters"},
        "html.plan.h.figures": {
            "vi": "Số liệu quy mô theo cụm",
            "en": "Scale figures per cluster",
        },
        "html.plan.figures_note": {
            "vi": "Số đậm là tổng của cụm; TB là trung bình mỗi đơn vị; ×n là chênh lệch "
            "= giá trị lớn nhất chia nhỏ nhất trong cụm (×1,0 là đồng đều).",
            "en": "Bold is the cluster total; avg is the mean per unit; ×n is the spread "
            "= largest value divided by smallest in the cluster (×1.0 = even).",
        },
        "html.col.mean_short": {"vi": "TB", "en": "avg"},
        "html.col.mean_known": {
            "vi": "TB ({n} đơn vị có số liệu)",
            "en": "avg (of the {n} known)",
        },
        "html.plan.missing_note": {
            "vi": "— kèm “thiếu k/n”: không có tổng vì k trong n đơn vị của cụm chưa có "
            "số liệu; trung bình và chênh lệch chỉ tính trên các đơn vị có số liệu.",
            "en": "— with “k of n missing”: no total, because k of the cluster's n units "
            "have no figure; the mean and spread use the known units only.",
        },
        "html.plan.h.why": {
            "vi": "Vì sao phương án như thế này",
            "en": "Why the plan looks like this",
        },
        "html.plan.binding": {
            "vi": "Quy tắc đang ở sát giới hạn (nới lỏng chúng có thể cho phương án tốt hơn):",
            "en": "Rules at their limit (relaxing them may give a better plan):",
        },
        "html.plan.drivers": {
            "vi": "Mức khác biệt còn lại bên trong các cụm, theo tiêu chí:",
            "en": "What the remaining differences inside clusters are about, by criterion:",
        },
        "html.criterion.function": {"vi": "chức năng", "en": "function"},
        "html.criterion.region": {"vi": "vùng", "en": "region"},
        "html.criterion.location": {"vi": "vị trí địa lý", "en": "location"},
        "html.col.description": {"vi": "Mô tả", "en": "Description"},
        "html.plan.h.members": {
            "vi": "Thành viên từng cụm",
            "en": "Members of each cluster",
        },
        "html.plan.h.balance": {
            "vi": "Cân bằng giữa các cụm",
            "en": "Balance between clusters",
        },
        "html.plan.balance_note": {
            "vi": "Thanh là tổng của từng cụm; vạch đậm là trung bình; dải xanh là khoảng dung sai cho phép.",
            "en": "Bars are cluster totals; the line is the mean; the green band is the allowed tolerance.",
        },
        "html.plan.h.moves": {
            "vi": "Thay đổi so với cách chia hiện tại",
            "en": "Changes from the current grouping",
        },
        "html.plan.flow_skipped": {
            "vi": "Không vẽ sơ đồ luồng: {current} cụm hiện tại và {proposed} cụm đề xuất (trên {limit} cụm thì các dải quá mảnh để đọc). Bảng dưới liệt kê từng đơn vị chuyển cụm.",
            "en": "No flow chart: {current} current and {proposed} proposed clusters (above {limit} its bands are too thin to read). The table below lists every unit that changes cluster.",
        },
        "html.plan.no_moves": {
            "vi": "Không đơn vị nào phải chuyển cụm.",
            "en": "No unit changes cluster.",
        },
        "html.plan.h.rules": {
            "vi": "Quy tắc và kết quả kiểm tra",
            "en": "Rules and whether they hold",
        },
        "html.plan.h.manifest": {"vi": "Nhật ký kiểm toán", "en": "Audit record"},
        "html.plan.manifest_note": {
            "vi": "Dùng để chạy lại và đối chiếu: mã băm tệp đầu vào, kịch bản, hạt giống, phiên bản.",
            "en": "To rerun and verify: input file hashes, scenario, seed, versions.",
        },
        "html.col.metric": {"vi": "Chỉ số", "en": "Measure"},
        "html.col.value": {"vi": "Giá trị", "en": "Value"},
        "html.col.cluster": {"vi": "Cụm", "en": "Cluster"},
        "html.col.size": {"vi": "Số đơn vị", "en": "Units"},
        "html.col.main_function": {"vi": "Chức năng chính", "en": "Main function"},
        "html.col.main_region": {"vi": "Vùng chính", "en": "Main region"},
        "html.col.total": {"vi": "Tổng {column}", "en": "Total {column}"},
        "html.col.mean": {"vi": "TB {column}", "en": "Mean {column}"},
        "html.col.spread": {"vi": "Chênh lệch {column}", "en": "Spread {column}"},
        "html.col.members": {"vi": "Thành viên", "en": "Members"},
        "html.col.unit_id": {"vi": "Mã", "en": "ID"},
        "html.col.name": {"vi": "Tên đơn vị", "en": "Unit name"},
        "html.col.current": {"vi": "Cụm hiện tại", "en": "Current cluster"},
        "html.col.proposed": {"vi": "Cụm đề xuất", "en": "Proposed cluster"},
        "html.col.rule": {"vi": "Quy tắc", "en": "Rule"},
        "html.col.setting": {"vi": "Yêu cầu", "en": "Required"},
        "html.col.actual": {"vi": "Thực tế", "en": "Achieved"},
        "html.col.holds": {"vi": "Kết quả", "en": "Result"},
        "html.col.scenario": {"vi": "Kịch bản", "en": "Scenario"},
        "html.col.status": {"vi": "Trạng thái", "en": "Status"},
        "html.col.verdict": {"vi": "Nhận xét", "en": "Verdict"},
        "html.col.units_to_move": {
            "vi": "Số đơn vị khác nhau",
            "en": "Units that differ",
        },
        "html.col.vi": {
            "vi": "Khoảng cách thông tin (bit)",
            "en": "Variation of information (bits)",
        },
        "html.col.seconds": {"vi": "Thời gian giải (giây)", "en": "Solve time (s)"},
        "html.cmp.title": {
            "vi": "So sánh các kịch bản phân cụm",
            "en": "Comparison of clustering scenarios",
        },
        "html.cmp.lead": {
            "vi": "{n} kịch bản, {ok} có phương án.",
            "en": "{n} scenarios, {ok} with a plan.",
        },
        "html.cmp.h.verdicts": {"vi": "Kết luận nhanh", "en": "At a glance"},
        "html.cmp.h.metrics": {
            "vi": "Chỉ số từng kịch bản",
            "en": "Measures of each scenario",
        },
        "html.cmp.h.distances": {
            "vi": "Các phương án khác nhau bao nhiêu",
            "en": "How different the plans are",
        },
        "html.cmp.distance_note": {
            "vi": "Số đơn vị khác nhau = số đơn vị ít nhất phải chuyển để biến phương án này thành phương án kia (không phụ thuộc tên cụm).",
            "en": "Units that differ = the fewest units that must move to turn one plan into the other (cluster names do not matter).",
        },
        "html.cmp.h.differing": {
            "vi": "Đơn vị được xếp khác nhau",
            "en": "Units placed differently",
        },
        "html.cmp.differing_note": {
            "vi": "{n} đơn vị không cùng nhóm bạn trong mọi phương án; mỗi cột ghi tên cụm trong phương án đó.",
            "en": "{n} units do not keep the same companions in every plan; each column gives the cluster name in that plan.",
        },
        "html.cmp.no_differing": {
            "vi": "Mọi phương án khả thi chia các đơn vị giống nhau.",
            "en": "Every feasible plan groups the units the same way.",
        },
        "html.cmp.h.maps": {"vi": "Bản đồ từng phương án", "en": "Map of each plan"},
        "html.cmp.maps_note": {
            "vi": "Màu chỉ phân biệt các cụm trong cùng một bản đồ; cùng màu ở hai bản đồ không có nghĩa là cùng cụm.",
            "en": "Colours only tell clusters apart within one map; the same colour on two maps does not mean the same cluster.",
        },
        "html.cmp.open_report": {"vi": "xem báo cáo", "en": "open report"},
        "html.cmp.h.timings": {"vi": "Thời gian tính toán", "en": "Computing time"},
    }
)

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("scenarios", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _version() -> str:
    try:
        return version("cumkhoi")
    except PackageNotFoundError:  # pragma: no cover - running from a checkout
        return "dev"


def _render(template: str, lang: str, context: Mapping[str, Any]) -> str:
    def num(value: Any, decimals: int | None = None) -> str:
        return fmt_number(value, lang, decimals)

    def pct(value: float | None) -> str:
        if value is None:
            return "—"
        return fmt_number(100 * value, lang, 1) + " %"

    env = _env.overlay()
    env.filters.update(num=num, pct=pct)
    with language(lang):
        return env.get_template(template).render(
            t=tr, lang=lang, version=_version(), **context
        )


def criterion_title(key: str) -> str:
    """Plain name of a similarity criterion (a scale column keeps its own name)."""
    msg = f"html.criterion.{key}"
    return tr(msg) if has_message(msg) else key


def status_text(result: ScenarioResult, lang: str, *, short: bool = False) -> str:
    """The plan's status in plain words (the gap as a percentage)."""
    plan = result.plan
    with language(lang):
        if plan is None:
            return tr("html.status.short.none")
        gap = fmt_number(100 * plan.gap, lang, 1) + " %"
        restricted = plan.details.get("bound_scope") == "restricted"
        if short:
            status = "FEASIBLE" if restricted else plan.status.value
            return tr(f"html.status.short.{status}", gap=gap)
        if plan.status is SolveStatus.OPTIMAL and not restricted:
            return tr("html.status.optimal")
        text = tr("html.status.feasible", gap=gap)
        # a bound of the candidate-restricted model proves nothing about all plans
        return text + " " + tr("explain.quality.restricted") if restricted else text


def render_plan_html(
    result: ScenarioResult,
    *,
    lang: str = "vi",
    geojson: Mapping[str, Any] | None = None,
    clusters: list[ClusterRow] | None = None,
) -> str:
    """The report of one solved plan as one self-contained HTML page.

    ``clusters`` is :func:`scenarios.report_data.cluster_rows` of ``result`` when the
    caller has it (the Excel report needs it too).

    Raises
    ------
    ValueError
        If the result has no plan (infeasible scenarios have no plan report;
        their reason is shown by the CLI and the comparison).
    """
    if result.plan is None:
        raise ValueError("an infeasible scenario has no plan report")
    plan, problem = result.plan, result.problem
    with language(lang):
        if clusters is None:
            clusters = cluster_rows(result)
        palette = charts.palette(plan.n_clusters)
        colours = [to_hex(c) for c in palette]
        balance_charts = [
            charts.balance_svg(
                [c.label for c in clusters],
                [c.totals[col] for c in clusters],
                column=col,
                tol=tol,
                colours=[palette[c.id] for c in clusters],
            )
            for col, tol in sorted(problem.rules.balance.items())
            if col in problem.profiles.numeric_columns
        ]
        units = unit_rows(result)
        flow, flow_skipped = None, None
        if problem.profiles.has_current:
            current = [u["current"] or "—" for u in units]
            n_current = len(set(current))
            if max(n_current, plan.n_clusters) <= charts.FLOW_MAX_LABELS:
                flow = charts.flow_svg(
                    current,
                    [u["cluster"] for u in units],
                    {c.label: palette[c.id] for c in clusters},
                )
            else:  # unreadable (hairline bands) and slow: the table of moves says it all
                flow_skipped = tr(
                    "html.plan.flow_skipped", current=n_current, proposed=plan.n_clusters,
                    limit=charts.FLOW_MAX_LABELS,
                )
        moves = [row for row in units if row["moved"]]  # move_rows, without a second pass
        summary = summarize_plan(plan, problem)
        descriptions = describe_plan(
            plan, problem.profiles, sorted(problem.rules.balance) or None
        )
        metrics = [
            (metric_title(k), result.metrics[k]) for k in metric_order(result.metrics)
        ]
        context = {
            "name": result.name,
            "status_text": status_text(result, lang),
            # what the status line cannot say: an unproven small table may give
            # another plan on a rerun, the clock cut a phase, counts sampled
            "notes": list(plan.notes),
            "n_units": problem.profiles.n_units,
            "n_clusters": plan.n_clusters,
            "gap": plan.gap,
            "moved": len(moves) if problem.profiles.has_current else None,
            "metrics": metrics,
            "map_svg": charts.map_svg(problem, plan, geojson=geojson),
            "numeric": list(problem.profiles.numeric_columns),
            "clusters": clusters,
            "descriptions": {c.id: descriptions.get(c.id, "") for c in clusters},
            "binding": list(summary.binding),
            "drivers": [(criterion_title(k), v) for k, v in summary.drivers if v > 0],
            "colours": colours,
            "balance_charts": balance_charts,
            "has_current": problem.profiles.has_current,
            "flow_svg": flow,
            "flow_skipped": flow_skipped,
            "moves": moves,
            "rules": rule_rows(result, clusters),
            "manifest": manifest_rows(result),
        }
    return _render("plan.html.j2", lang, context)


def render_comparison_html(
    comparison: Comparison,
    *,
    lang: str = "vi",
    plan_links: Mapping[str, str] | None = None,
) -> str:
    """The side-by-side comparison of scenarios as one self-contained HTML page.

    ``plan_links`` (scenario name → relative path of its ``report.html``) adds
    a link to each plan's own report; only relative local paths are accepted.
    """
    links = {
        name: path
        for name, path in (plan_links or {}).items()
        if not re.match(r"^[a-z][a-z0-9+.-]*:|^/|^\\", path, re.IGNORECASE)
    }
    with language(lang):
        names = list(comparison.names)
        ok_names = [n for n in names if comparison.result(n).plan is not None]
        scenarios = []
        for name in names:
            result = comparison.result(name)
            scenarios.append(
                {
                    "name": name,
                    "status_text": status_text(result, lang, short=True),
                    "verdict": comparison.verdict_text(name),
                    "gap": result.plan.gap if result.plan else None,
                    "notes": list(result.plan.notes) if result.plan else [],
                    "link": links.get(name),
                }
            )
        metric_rows = [
            (metric_title(col), [comparison.values[n][col] for n in names])
            for col in comparison.columns
            if any(comparison.values[n][col] is not None for n in names)
        ]
        chart_cols = [
            c
            for c in comparison.columns
            if c not in ("size_min", "size_max")
            and any(comparison.values[n][c] for n in names)
        ]
        metrics_svg = None
        if ok_names and chart_cols:
            metrics_svg = charts.metrics_svg(
                names,
                {c: [comparison.values[n][c] for n in names] for c in chart_cols},
                {c: metric_title(c) for c in chart_cols},
            )
        maps = []
        for name in ok_names:
            result = comparison.result(name)
            assert result.plan is not None
            svg = charts.map_svg(
                result.problem, result.plan, size=(4.2, 4.2), legend=False, title=name
            )
            if svg is not None:
                maps.append(svg)
        context = {
            "maps": maps,
            "names": names,
            "ok_names": ok_names,
            "n_ok": len(ok_names),
            "scenarios": scenarios,
            "colours": [to_hex(c) for c in charts.palette(len(names))],
            "metric_rows": metric_rows,
            "metrics_svg": metrics_svg,
            "distances": comparison.distances,
            "differing": comparison.differing_units,
            "timings": sorted(comparison.timings.items()),
        }
    return _render("comparison.html.j2", lang, context)
