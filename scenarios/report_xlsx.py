"""Excel workbooks of a plan and of a comparison, for planners who live in Excel.

One sheet per topic, styled headers, frozen header row, autofilter, widths
that fit the text, and native Excel charts (so the planner can restyle them).
Every text cell is written with ``write_string``: a unit called ``=SUM(A1)``
or ``+84…`` stays text and never runs as a formula. Numbers stay numbers so
Excel can sum and sort them. The file's creation date is fixed so the same
plan gives the same bytes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from features.i18n import language, register, tr
from optimizer.describe import describe_plan
from scenarios import report_html  # noqa: F401  (registers the shared column titles)
from scenarios.atomic import atomic_write_bytes
from scenarios.compare import Comparison
from scenarios.report_data import (
    ClusterRow,
    cluster_rows,
    manifest_rows,
    metric_order,
    metric_title,
    move_rows,
    rule_rows,
    status_cell,
    unit_rows,
)
from scenarios.result import ScenarioResult

register(
    {
        "xlsx.sheet.summary": {"vi": "Tổng quan", "en": "Summary"},
        "xlsx.sheet.clusters": {"vi": "Cụm", "en": "Clusters"},
        "xlsx.sheet.units": {"vi": "Đơn vị", "en": "Units"},
        "xlsx.sheet.moves": {"vi": "Di chuyển", "en": "Moves"},
        "xlsx.sheet.rules": {"vi": "Quy tắc", "en": "Rules"},
        "xlsx.sheet.manifest": {"vi": "Nhật ký", "en": "Manifest"},
        "xlsx.sheet.metrics": {"vi": "Chỉ số", "en": "Metrics"},
        "xlsx.sheet.distances": {"vi": "Khoảng cách", "en": "Distances"},
        "xlsx.sheet.differing": {"vi": "Đơn vị khác nhau", "en": "Differing units"},
        "xlsx.sheet.charts": {"vi": "Biểu đồ", "en": "Charts"},
        "xlsx.col.key": {"vi": "Mục", "en": "Item"},
        "xlsx.col.value": {"vi": "Giá trị", "en": "Value"},
        "xlsx.col.function": {"vi": "Chức năng", "en": "Function"},
        "xlsx.col.region": {"vi": "Vùng", "en": "Region"},
        "xlsx.col.moved": {"vi": "Chuyển cụm", "en": "Moved"},
        "xlsx.col.gap": {"vi": "Sai số tối ưu", "en": "Gap"},
        "xlsx.col.objective": {"vi": "Hàm mục tiêu", "en": "Objective"},
        "xlsx.col.bound": {"vi": "Cận dưới", "en": "Bound"},
        "xlsx.col.note": {"vi": "Lưu ý", "en": "Note"},
        "xlsx.col.chart_title": {
            "vi": "Tổng {column} theo cụm",
            "en": "{column} total per cluster",
        },
        "xlsx.col.mean_known": {
            "vi": "TB {column} (đơn vị có số liệu)",
            "en": "Mean {column} (known units)",
        },
        "xlsx.col.missing": {
            "vi": "Thiếu số liệu {column} (tổng để trống)",
            "en": "Missing {column} (total left blank)",
        },
    }
)

#: Fixed creation date: identical plans give identical workbooks.
_CREATED = datetime(2000, 1, 1)


class _Book:
    """A workbook with the house formats and a helper that writes one table."""

    def __init__(self, buffer: io.BytesIO) -> None:
        self.wb = xlsxwriter.Workbook(
            buffer,
            {
                "in_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self.wb.set_properties({"created": _CREATED, "author": "cumkhoi"})
        self.header = self.wb.add_format(
            {
                "bold": True,
                "bg_color": "#264653",
                "font_color": "#FFFFFF",
                "border": 1,
                "text_wrap": True,
                "valign": "top",
            }
        )
        self.number = self.wb.add_format({"num_format": "#,##0.###"})
        self.percent = self.wb.add_format({"num_format": "0.0%"})

    def table(
        self,
        name: str,
        headers: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        percent_cols: Sequence[int] = (),
    ) -> Worksheet:
        """Write ``rows`` under styled ``headers``; freeze, filter, fit widths."""
        ws = self.wb.add_worksheet(name[:31])
        widths = [len(h) + 2 for h in headers]
        for col, text in enumerate(headers):
            ws.write_string(0, col, str(text), self.header)
        for r, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                self.cell(ws, r, col, value, percent=col in percent_cols)
                widths[col] = max(widths[col], min(60, len(_text(value)) + 2))
        for col, width in enumerate(widths):
            ws.set_column(col, col, min(60, max(8, width)))
        ws.freeze_panes(1, 0)
        if rows:
            ws.autofilter(0, 0, len(rows), len(headers) - 1)
        return ws

    def cell(
        self, ws: Worksheet, row: int, col: int, value: Any, *, percent: bool = False
    ) -> None:
        if value is None:
            ws.write_blank(row, col, None)
        elif isinstance(value, bool):
            ws.write_string(row, col, tr("rep.yes") if value else tr("rep.no"))
        elif isinstance(value, int | float):
            if math.isnan(value):
                ws.write_blank(row, col, None)
            else:
                ws.write_number(
                    row, col, value, self.percent if percent else self.number
                )
        else:
            ws.write_string(row, col, str(value))

    def close(self) -> None:
        self.wb.close()


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _save(path: Path, fill: Any) -> Path:
    buffer = io.BytesIO()
    book = _Book(buffer)
    fill(book)
    book.close()
    atomic_write_bytes(path, buffer.getvalue())
    return path


def write_plan_xlsx(
    result: ScenarioResult, path: Path, *, lang: str = "vi",
    clusters: list[ClusterRow] | None = None,
) -> Path:
    """Write ``report.xlsx`` for one solved plan (sheets per topic, native chart);
    ``clusters`` is :func:`scenarios.report_data.cluster_rows` of ``result`` when the
    caller has it."""
    if result.plan is None:
        raise ValueError("an infeasible scenario has no plan report")
    plan, prof = result.plan, result.problem.profiles
    numeric = list(prof.numeric_columns)
    if clusters is None:
        clusters = cluster_rows(result)

    def fill(book: _Book) -> None:
        summary = [
            (tr("html.col.scenario"), result.name),
            (tr("html.col.status"), status_cell(result)),
            (tr("xlsx.col.objective"), plan.objective),
            (tr("xlsx.col.bound"), plan.bound),
            (tr("xlsx.col.gap"), plan.gap),
            (tr("html.units"), prof.n_units),
            (tr("html.clusters"), plan.n_clusters),
        ] + [(metric_title(k), result.metrics[k]) for k in metric_order(result.metrics)]
        # the plan's notes (not proven / a rerun may differ, clock cut a phase)
        summary += [(tr("xlsx.col.note"), note) for note in plan.notes]
        ws = book.table(
            tr("xlsx.sheet.summary"),
            [tr("xlsx.col.key"), tr("xlsx.col.value")],
            summary,
        )
        ws.write_number(5, 1, plan.gap, book.percent)

        headers = [
            tr("html.col.cluster"),
            tr("html.col.size"),
            tr("html.col.main_function"),
            tr("html.col.main_region"),
        ]
        # a column with an empty cell in some cluster gets a "missing" column
        # beside it, and that cluster's total stays blank (never a partial sum)
        incomplete = {
            col for col in numeric if any(c.missing.get(col) for c in clusters)
        }
        total_idx: dict[str, int] = {}
        for col in numeric:
            total_idx[col] = len(headers)
            headers += [
                tr("html.col.total", column=col),
                tr(
                    "xlsx.col.mean_known" if col in incomplete else "html.col.mean",
                    column=col,
                ),
                tr("html.col.spread", column=col),
            ]
            if col in incomplete:
                headers.append(tr("xlsx.col.missing", column=col))
        headers += [tr("html.col.description"), tr("html.col.members")]
        descriptions = describe_plan(
            plan, prof, sorted(result.problem.rules.balance) or None
        )
        rows = []
        for c in clusters:
            row: list[Any] = [c.label, c.size, c.main_function, c.main_region]
            for col in numeric:
                row += [c.totals[col], c.means[col], c.spread[col]]
                if col in incomplete:
                    row.append(c.missing_text(col) or None)
            row.append(descriptions.get(c.id, ""))
            row.append(", ".join(f"{name} ({uid})" for uid, name in c.members))
            rows.append(row)
        ws = book.table(tr("xlsx.sheet.clusters"), headers, rows)
        n = len(clusters)
        chart_cols = sorted(result.problem.rules.balance) or numeric[:1]
        for k, col in enumerate(c for c in chart_cols if c in numeric):
            col_idx = total_idx[col]
            chart = book.wb.add_chart({"type": "column"})
            chart.add_series(
                {
                    "name": tr("html.col.total", column=col),
                    "categories": [ws.name, 1, 0, n, 0],
                    "values": [ws.name, 1, col_idx, n, col_idx],
                    "fill": {"color": "#2a9d8f"},
                }
            )
            chart.set_title({"name": tr("xlsx.col.chart_title", column=col)})
            chart.set_legend({"none": True})
            ws.insert_chart(n + 3 + 16 * k, 0, chart, {"x_scale": 1.4, "y_scale": 1.1})

        units = unit_rows(result)
        base = ["unit_id", "name", "cluster", "current", "moved", "function", "region"]
        uh = [
            tr("html.col.unit_id"),
            tr("html.col.name"),
            tr("html.col.proposed"),
            tr("html.col.current"),
            tr("xlsx.col.moved"),
            tr("xlsx.col.function"),
            tr("xlsx.col.region"),
            *numeric,
        ]
        book.table(
            tr("xlsx.sheet.units"),
            uh,
            [[u[k] for k in base] + [u[c] for c in numeric] for u in units],
        )
        book.table(
            tr("xlsx.sheet.moves"),
            [
                tr("html.col.unit_id"),
                tr("html.col.name"),
                tr("html.col.current"),
                tr("html.col.proposed"),
            ],
            [
                [m["unit_id"], m["name"], m["current"], m["cluster"]]
                for m in move_rows(result)
            ],
        )
        status = {
            True: tr("rep.rule.holds"),
            False: tr("rep.rule.fails"),
            None: tr("rep.rule.unknown"),
        }
        book.table(
            tr("xlsx.sheet.rules"),
            [
                tr("html.col.rule"),
                tr("html.col.setting"),
                tr("html.col.actual"),
                tr("html.col.holds"),
            ],
            [
                [r["rule"], r["setting"], r["actual"], status[r["holds"]]]
                for r in rule_rows(result, clusters)
            ],
        )
        book.table(
            tr("xlsx.sheet.manifest"),
            [tr("xlsx.col.key"), tr("xlsx.col.value")],
            manifest_rows(result),
        )

    with language(lang):
        return _save(Path(path), fill)


def write_comparison_xlsx(
    comparison: Comparison, path: Path, *, lang: str = "vi"
) -> Path:
    """Write ``comparison.xlsx``: summary, metrics (with charts), distances, differing units."""
    names = list(comparison.names)

    def fill(book: _Book) -> None:
        summary = []
        for name in names:
            plan = comparison.result(name).plan
            summary.append(
                [
                    name,
                    status_cell(comparison.result(name)),
                    plan.gap if plan else None,
                    comparison.verdict_text(name),
                    " ".join(plan.notes) if plan and plan.notes else None,
                ]
            )
        book.table(
            tr("xlsx.sheet.summary"),
            [
                tr("html.col.scenario"),
                tr("html.col.status"),
                tr("xlsx.col.gap"),
                tr("html.col.verdict"),
                tr("xlsx.col.note"),
            ],
            summary,
            percent_cols=(2,),
        )
        cols = list(comparison.columns)
        rows = [[n, *(comparison.values[n][c] for c in cols)] for n in names]
        ws = book.table(
            tr("xlsx.sheet.metrics"),
            [tr("html.col.scenario"), *(metric_title(c) for c in cols)],
            rows,
        )
        charts_ws = book.wb.add_worksheet(tr("xlsx.sheet.charts"))
        placed = 0
        for j, col in enumerate(cols, start=1):
            if not any(comparison.values[n][col] for n in names):
                continue
            chart = book.wb.add_chart({"type": "bar"})
            chart.add_series(
                {
                    "name": metric_title(col),
                    "categories": [ws.name, 1, 0, len(names), 0],
                    "values": [ws.name, 1, j, len(names), j],
                    "fill": {"color": "#264653"},
                }
            )
            chart.set_title({"name": metric_title(col), "name_font": {"size": 10}})
            chart.set_legend({"none": True})
            chart.set_y_axis({"reverse": True})
            charts_ws.insert_chart(1 + 16 * (placed // 2), 9 * (placed % 2), chart)
            placed += 1
        book.table(
            tr("xlsx.sheet.distances"),
            [
                f"{tr('html.col.scenario')} A",
                f"{tr('html.col.scenario')} B",
                tr("html.col.units_to_move"),
                tr("html.col.vi"),
            ],
            [
                [d.a, d.b, d.units_to_move, d.variation_of_information]
                for d in comparison.distances
            ],
        )
        ok = [n for n in names if comparison.result(n).plan is not None]
        book.table(
            tr("xlsx.sheet.differing"),
            [tr("html.col.unit_id"), tr("html.col.name"), *ok],
            [
                [u.unit_id, u.name, *(u.clusters.get(n) for n in ok)]
                for u in comparison.differing_units
            ],
        )

    with language(lang):
        return _save(Path(path), fill)
