"""Pictures for the reports: map, balance bars, metrics across scenarios, flows.

Planners would rather look than read. Every chart is drawn with matplotlib's
Agg-free SVG backend and returned as an SVG string that the HTML report
inlines: no file, no network, text drawn as paths (so Vietnamese diacritics
show whatever fonts the reader has), and byte-identical output for identical
input (fixed ``svg.hashsalt``, no date metadata) so reports can be diffed.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import PathPatch, Polygon
from matplotlib.path import Path as MplPath
from matplotlib.ticker import FuncFormatter

from features.i18n import get_language, register, tr
from optimizer.plan import Plan
from optimizer.problem import Problem
from scenarios.report_data import fmt_number, natural_key

register(
    {
        "chart.map.lon": {"vi": "Kinh độ", "en": "Longitude"},
        "chart.map.lat": {"vi": "Vĩ độ", "en": "Latitude"},
        "chart.bar.mean": {"vi": "trung bình", "en": "mean"},
        "chart.bar.band": {"vi": "dung sai ±{tol}", "en": "tolerance ±{tol}"},
        "chart.bar.sorted": {
            "vi": "{column}: tổng của {n} cụm, xếp từ nhỏ đến lớn",
            "en": "{column}: totals of the {n} clusters, smallest to largest",
        },
        "chart.bar.rank": {"vi": "Thứ tự cụm", "en": "Cluster rank"},
        "chart.flow.current": {"vi": "Hiện tại", "en": "Current"},
        "chart.unit.million": {"vi": "{x} triệu", "en": "{x}M"},
        "chart.unit.thousand": {"vi": "{x} nghìn", "en": "{x}k"},
        "chart.flow.proposed": {"vi": "Đề xuất", "en": "Proposed"},
    }
)

_STYLE: dict[str, Any] = {
    "svg.hashsalt": "cumkhoi",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    # unit names and labels are data, not TeX: "$\\frac{" in a label crashed the report
    "text.parse_math": False,
}
#: Maps with more units than this embed dots and edges as a PNG inside the SVG.
RASTER_ABOVE = 1500
#: Up to this many clusters the map has a legend and draws each cluster on its own;
#: beyond, all hulls and dots go in one collection each.
LEGEND_MAX_CLUSTERS = 20
#: Above this many clusters the balance chart draws their totals sorted, as one
#: line, instead of a labelled bar each (1 000 clusters made a 281-inch figure).
BALANCE_BARS_MAX = 80
#: A flow chart with more clusters than this on either side is not drawn: its
#: bands become hairlines, and at 10 000 sample units (1 667 current clusters,
#: 200 proposed) it was a 585-inch-tall figure, 9 of the report's 23 s under a profiler.
FLOW_MAX_LABELS = 60
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>", re.DOTALL)
#: Namespace declarations are not requests, but an HTML parser supplies them
#: for inline SVG anyway; dropping them leaves no URL at all in the report.
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')


def _style() -> Any:
    """House chart style as a context (matplotlib's stubs want literal rc keys)."""
    return plt.rc_context(_STYLE)  # type: ignore[arg-type]


def palette(n: int) -> list[tuple[float, float, float, float]]:
    """``n`` distinguishable colours, the same for a cluster in every chart."""
    cmap = plt.get_cmap("tab20" if n > 10 else "tab10")
    return [cmap(i % cmap.N) for i in range(n)]


def _svg(fig: plt.Figure) -> str:
    """Serialise ``fig`` as an inline-able, deterministic SVG element."""
    buffer = io.StringIO()
    fig.savefig(
        buffer,
        format="svg",
        metadata={"Date": None, "Creator": None},
        bbox_inches="tight",
        dpi=150,  # only rasterized layers (big maps) use it
    )
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    return _XMLNS.sub("", _METADATA.sub("", _COMMENT.sub("", text)))


def _clusters(plan: Plan, problem: Problem) -> list[list[int]]:
    """Row indices (into the unit table) of each cluster, in cluster-id order."""
    index = {u: i for i, u in enumerate(problem.unit_ids)}
    parts = plan.assignment.parts()
    return [[index[u] for u in parts.get(c, ())] for c in range(plan.n_clusters)]


def _geo_polygons(geometry: Mapping[str, Any]) -> list[np.ndarray]:
    kind = geometry.get("type")
    coords = geometry.get("coordinates") or []
    if kind == "Polygon":
        return [np.asarray(coords[0], dtype=float)] if coords else []
    if kind == "MultiPolygon":
        return [np.asarray(poly[0], dtype=float) for poly in coords if poly]
    return []


def _feature_unit(feature: Mapping[str, Any], units: set[str]) -> str | None:
    """The unit a GeoJSON feature draws: a property equal to a unit id."""
    props = feature.get("properties") or {}
    for key in ("unit_id", "id", "ma", "code"):
        if str(props.get(key, "")) in units:
            return str(props[key])
    for value in props.values():
        if str(value) in units:
            return str(value)
    if str(feature.get("id", "")) in units:
        return str(feature["id"])
    return None


def map_svg(
    problem: Problem,
    plan: Plan,
    *,
    geojson: Mapping[str, Any] | None = None,
    size: tuple[float, float] = (7.0, 6.0),
    legend: bool = True,
    title: str | None = None,
) -> str | None:
    """Schematic map: units coloured by cluster, adjacency edges, cluster hulls.

    With ``geojson`` (a FeatureCollection whose features carry a unit id in
    their properties) the unit boundaries are filled instead. Returns None when
    there is nothing to draw (no coordinates and no boundaries).
    """
    frame = problem.profiles.frame
    has_xy = problem.profiles.has_location and {"lat", "lon"} <= set(frame.columns)
    if not has_xy and geojson is None:
        return None
    clusters = _clusters(plan, problem)
    colours = palette(len(clusters))
    colour_of = {}
    for c, rows in enumerate(clusters):
        for i in rows:
            colour_of[problem.unit_ids[i]] = colours[c]
    with _style():
        fig, ax = plt.subplots(figsize=size)
        drawn = False
        if geojson is not None:
            units = set(problem.unit_ids)
            for feature in geojson.get("features", []):
                unit = _feature_unit(feature, units)
                if unit is None:
                    continue
                for ring in _geo_polygons(feature.get("geometry") or {}):
                    ax.add_patch(
                        Polygon(
                            ring[:, :2],
                            closed=True,
                            facecolor=colour_of[unit],
                            edgecolor="white",
                            linewidth=0.4,
                        )
                    )
                    drawn = True
            ax.autoscale_view()
        if has_xy and not drawn:
            lon = frame["lon"].to_numpy(dtype=float)
            lat = frame["lat"].to_numpy(dtype=float)
            # thousands of vector dots make a slow, huge page: embed them as pixels
            big = len(lon) > RASTER_ABOVE
            dot_size = 36 if len(lon) <= 200 else max(4, 36 * 200 / len(lon))
            if problem.graph is not None:
                # one line broken by NaN gaps, not one path per edge: 150 000 edges at
                # 50 000 units took ~3 s of path objects per map (two maps per compare)
                index = {u: i for i, u in enumerate(problem.unit_ids)}
                ends = np.array([(index[a], index[b]) for a, b in sorted(problem.graph.edges)
                                 if a in index and b in index], dtype=np.int64).reshape(-1, 2)
                gap = np.full(len(ends), np.nan)
                ax.plot(np.column_stack([lon[ends[:, 0]], lon[ends[:, 1]], gap]).ravel(),
                        np.column_stack([lat[ends[:, 0]], lat[ends[:, 1]], gap]).ravel(),
                        color="#bbbbbb", linewidth=0.5, zorder=1, rasterized=big)
            if len(clusters) > LEGEND_MAX_CLUSTERS:
                _draw_many(ax, clusters, lon, lat, colours, dot_size, big)
            else:
                for c, rows in enumerate(clusters):
                    pts = np.column_stack([lon[rows], lat[rows]])
                    pts = pts[~np.isnan(pts).any(axis=1)]
                    _draw_hull(ax, pts, colours[c])
                    ax.scatter(
                        pts[:, 0],
                        pts[:, 1],
                        s=dot_size,
                        color=colours[c],
                        zorder=3,
                        edgecolors="white",
                        linewidths=0.4 if len(lon) <= 200 else 0,
                        label=plan.cluster_labels[c],
                        rasterized=big,
                    )
            if legend and len(clusters) <= LEGEND_MAX_CLUSTERS:
                ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
        ax.set_xlabel(tr("chart.map.lon"))
        ax.set_ylabel(tr("chart.map.lat"))
        ax.set_aspect("equal", adjustable="datalim")
        if title:
            ax.set_title(title, fontsize=9)
        return _svg(fig)


def _draw_many(ax: plt.Axes, clusters: list[np.ndarray], lon: np.ndarray, lat: np.ndarray,
               colours: list[Any], dot_size: float, raster: bool) -> None:
    """Every cluster's hull and dots in one collection each (no legend at this many).

    Why: one scatter per cluster re-fits the axes each time; 25 000 clusters
    took 313 s of a report.
    """
    from matplotlib.collections import PolyCollection
    from scipy.spatial import ConvexHull, QhullError

    hulls, hull_colours, xs, ys, dot_colours = [], [], [], [], []
    for c, rows in enumerate(clusters):
        pts = np.column_stack([lon[rows], lat[rows]])
        pts = pts[~np.isnan(pts).any(axis=1)]
        xs.append(pts[:, 0])
        ys.append(pts[:, 1])
        dot_colours.extend([colours[c]] * len(pts))
        if len(pts) >= 3:
            try:
                hulls.append(pts[ConvexHull(pts).vertices])
                hull_colours.append(colours[c])
            except (QhullError, ValueError):
                pass
    if hulls:
        ax.add_collection(PolyCollection(hulls, facecolors=hull_colours, edgecolors=hull_colours,
                                         alpha=0.15, linewidths=0.8, zorder=2, rasterized=raster))
    ax.scatter(np.concatenate(xs), np.concatenate(ys), s=dot_size, c=dot_colours, zorder=3,
               linewidths=0, rasterized=raster)


def _draw_hull(ax: plt.Axes, pts: np.ndarray, colour: Any) -> None:
    """Shade the convex hull of a cluster (skipped for < 3 or collinear points)."""
    if len(pts) < 3:
        return
    from scipy.spatial import ConvexHull, QhullError

    try:
        hull = ConvexHull(pts)
    except (QhullError, ValueError):
        return
    ax.add_patch(
        Polygon(
            pts[hull.vertices],
            closed=True,
            facecolor=colour,
            alpha=0.15,
            edgecolor=colour,
            linewidth=0.8,
            zorder=2,
        )
    )


def compact_number(value: float, _pos: object = None) -> str:
    """Axis label in the reader's language: 20 tr / 20M, 350 N / 350k, 0,5 / 0.5."""
    lang = get_language()
    size = abs(value)
    if size >= 1e6:
        return tr("chart.unit.million", x=fmt_number(round(value / 1e6, 1), lang))
    if size >= 1e4:
        return tr("chart.unit.thousand", x=fmt_number(round(value / 1e3, 1), lang))
    return fmt_number(round(value, 2), lang)


def balance_svg(
    labels: Sequence[str],
    totals: Sequence[float],
    *,
    column: str,
    tol: float | None,
    colours: Sequence[Any] | None = None,
) -> str:
    """Bar per cluster of one scale column's total, with the mean and ±tol band.

    Above :data:`BALANCE_BARS_MAX` clusters the totals are drawn sorted as one
    line against the same band: what a planner checks there is that the whole
    line stays inside it (the clusters table has each cluster's figure).
    """
    totals_arr = np.asarray(totals, dtype=float)
    mean = float(totals_arr.mean()) if len(totals_arr) else 0.0
    if len(labels) > BALANCE_BARS_MAX:
        return _sorted_totals_svg(totals_arr, mean, column=column, tol=tol)
    with _style():
        fig, ax = plt.subplots(figsize=(7.0, max(2.0, 0.28 * len(labels) + 1.0)))
        y = np.arange(len(labels))
        ax.barh(y, totals_arr, color=colours or palette(len(labels)), height=0.7)
        if tol is not None:
            ax.axvspan(
                mean * (1 - tol),
                mean * (1 + tol),
                color="#2a9d8f",
                alpha=0.15,
                label=tr("chart.bar.band", tol=f"{tol:.0%}"),
            )
        ax.axvline(mean, color="#264653", linewidth=1.0, label=tr("chart.bar.mean"))
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(FuncFormatter(compact_number))
        ax.set_title(column)
        ax.legend(
            loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False
        )
        return _svg(fig)


def _sorted_totals_svg(totals: np.ndarray, mean: float, *, column: str, tol: float | None) -> str:
    """Many clusters: their totals sorted, one line, with the mean and the ±tol band."""
    shown = np.sort(totals[np.isfinite(totals)])
    rank = np.arange(1, len(shown) + 1)
    with _style():
        fig, ax = plt.subplots(figsize=(7.0, 3.2))
        if tol is not None:
            ax.axhspan(mean * (1 - tol), mean * (1 + tol), color="#2a9d8f", alpha=0.15,
                       label=tr("chart.bar.band", tol=f"{tol:.0%}"))
        ax.axhline(mean, color="#264653", linewidth=1.0, label=tr("chart.bar.mean"))
        ax.plot(rank, shown, color="#e76f51", linewidth=1.5)
        ax.set_xlim(1, max(len(shown), 2))
        ax.set_xlabel(tr("chart.bar.rank"))
        ax.yaxis.set_major_formatter(FuncFormatter(compact_number))
        ax.set_title(tr("chart.bar.sorted", column=column, n=len(totals)))
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
        return _svg(fig)


def metrics_svg(
    names: Sequence[str],
    metrics: Mapping[str, Sequence[float | None]],
    titles: Mapping[str, str],
) -> str:
    """One small bar panel per metric, a bar per scenario (missing values left blank)."""
    keys = list(metrics)
    n_cols = min(3, max(1, len(keys)))
    n_rows = (len(keys) + n_cols - 1) // n_cols
    colours = palette(len(names))
    with _style():
        fig, axes = plt.subplots(
            n_rows,
            n_cols,
            figsize=(3.0 * n_cols, 0.35 * len(names) * n_rows + 1.2 * n_rows),
            squeeze=False,
        )
        for ax, key in zip(axes.flat, keys, strict=False):
            vals = [np.nan if v is None else float(v) for v in metrics[key]]
            y = np.arange(len(names))
            ax.barh(y, vals, color=colours, height=0.7)
            ax.set_yticks(y, names if ax in axes[:, 0] else [""] * len(names))
            ax.invert_yaxis()
            ax.set_title(titles.get(key, key), fontsize=8)
        for ax in list(axes.flat)[len(keys) :]:
            ax.set_visible(False)
        fig.tight_layout()
        return _svg(fig)


def flow_svg(
    current: Sequence[str],
    proposed: Sequence[str],
    colours: Mapping[str, Any] | None = None,
) -> str:
    """Current → proposed flow: bands as wide as the units each old cluster sends.

    ``colours`` (proposed label → colour) gives each band its cluster's colour
    on the map and balance charts, so a planner can follow a cluster from one
    chart to the next; without it the proposed clusters are coloured in label
    order.
    """
    left = sorted(set(current), key=natural_key)
    right = sorted(set(proposed), key=natural_key)
    counts = Counter(zip(current, proposed, strict=True))
    n = len(current)
    gap = max(1.0, 0.02 * n)

    def stack(labels: list[str], size: Mapping[str, int]) -> dict[str, float]:
        pos, top = {}, 0.0
        for label in labels:
            pos[label] = top
            top += size[label] + gap
        return pos

    size_l, size_r = Counter(current), Counter(proposed)
    pos_l, pos_r = stack(left, size_l), stack(right, size_r)
    fallback = dict(zip(right, palette(len(right)), strict=True))
    colours = {b: (colours or {}).get(b, fallback[b]) for b in right}
    with _style():
        height = max(len(left), len(right)) * 0.35 + 1.5
        fig, ax = plt.subplots(figsize=(7.0, height))
        off_l = dict(pos_l)
        off_r = dict(pos_r)
        rank_r = {b: i for i, b in enumerate(right)}
        sent_to: dict[str, list[str]] = {}
        for a, b in counts:
            sent_to.setdefault(a, []).append(b)
        for a in left:
            for b in sorted(sent_to[a], key=rank_r.__getitem__):  # bands in right-hand order
                k = counts[(a, b)]
                y0, y1 = off_l[a], off_r[b]
                verts = [
                    (0.1, y0),
                    (0.5, y0),
                    (0.5, y1),
                    (0.9, y1),
                    (0.9, y1 + k),
                    (0.5, y1 + k),
                    (0.5, y0 + k),
                    (0.1, y0 + k),
                    (0.1, y0),
                ]
                codes = [
                    MplPath.MOVETO,
                    MplPath.CURVE4,
                    MplPath.CURVE4,
                    MplPath.CURVE4,
                    MplPath.LINETO,
                    MplPath.CURVE4,
                    MplPath.CURVE4,
                    MplPath.CURVE4,
                    MplPath.CLOSEPOLY,
                ]
                ax.add_patch(
                    PathPatch(
                        MplPath(verts, codes),
                        facecolor=colours[b],
                        alpha=0.45,
                        edgecolor="none",
                    )
                )
                off_l[a] += k
                off_r[b] += k
        for labels, pos, size, x, ha in (
            (left, pos_l, size_l, 0.1, "right"),
            (right, pos_r, size_r, 0.9, "left"),
        ):
            for label in labels:
                ax.add_patch(
                    Polygon(
                        [
                            (x - 0.01, pos[label]),
                            (x + 0.01, pos[label]),
                            (x + 0.01, pos[label] + size[label]),
                            (x - 0.01, pos[label] + size[label]),
                        ],
                        closed=True,
                        color="#264653",
                    )
                )
                ax.text(
                    x + (-0.02 if ha == "right" else 0.02),
                    pos[label] + size[label] / 2,
                    f"{label} ({size[label]})",
                    ha=ha,
                    va="center",
                )
        total = max(
            sum(size_l.values()) + gap * len(left),
            sum(size_r.values()) + gap * len(right),
        )
        ax.set_xlim(-0.25, 1.25)
        ax.set_ylim(total, -gap)
        ax.text(0.1, -gap * 0.6, tr("chart.flow.current"), ha="center", weight="bold")
        ax.text(0.9, -gap * 0.6, tr("chart.flow.proposed"), ha="center", weight="bold")
        ax.axis("off")
        return _svg(fig)
