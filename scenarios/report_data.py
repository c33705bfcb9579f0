"""What a plan report says, independent of how it is drawn (HTML or Excel).

Both report writers read these plain rows so the web page and the workbook
never disagree. Rows hold raw values (numbers stay numbers for Excel); the
HTML side formats them with :func:`fmt_number` in the reader's language.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from features.i18n import register, tr
from optimizer.describe import localize_separators
from optimizer.rule_words import column_words
from scenarios.compare import BASE_COLUMNS, TAIL_COLUMNS
from scenarios.result import ScenarioResult

register(
    {
        "rep.status.OPTIMAL": {"vi": "Tối ưu", "en": "Optimal"},
        "rep.status.FEASIBLE": {"vi": "Khả thi", "en": "Feasible"},
        "rep.status.restricted": {
            "vi": "Khả thi, tối ưu trong mô hình thu hẹp",
            "en": "Feasible, optimal within the restricted model",
        },
        "rep.status.INFEASIBLE": {"vi": "Không có phương án", "en": "No plan"},
        "rep.metric.n_clusters": {"vi": "Số cụm", "en": "Clusters"},
        "rep.metric.size_min": {
            "vi": "Cụm nhỏ nhất (đơn vị)",
            "en": "Smallest cluster (units)",
        },
        "rep.metric.size_max": {
            "vi": "Cụm lớn nhất (đơn vị)",
            "en": "Largest cluster (units)",
        },
        "rep.metric.size_spread": {
            "vi": "Chênh lệch quy mô cụm",
            "en": "Cluster size spread",
        },
        "rep.metric.dispersion": {
            "vi": "Độ phân tán (càng thấp càng đồng nhất)",
            "en": "Dispersion (lower = more homogeneous)",
        },
        "rep.metric.balance_dev": {
            "vi": "Lệch tối đa của {column}",
            "en": "Max deviation of {column}",
        },
        "rep.metric.function_purity": {
            "vi": "Độ thuần chức năng",
            "en": "Function purity",
        },
        "rep.metric.region_purity": {"vi": "Độ thuần vùng", "en": "Region purity"},
        "rep.metric.disconnected_clusters": {
            "vi": "Số cụm không liền mạch",
            "en": "Disconnected clusters",
        },
        "rep.metric.units_moved": {"vi": "Số đơn vị chuyển cụm", "en": "Units moved"},
        "rep.rule.count": {"vi": "Số cụm", "en": "Number of clusters"},
        "rep.rule.size": {
            "vi": "Quy mô mỗi cụm (số đơn vị)",
            "en": "Units per cluster",
        },
        "rep.rule.balance": {
            "vi": "Tổng {column} mỗi cụm trong ±{tol} của trung bình",
            "en": "Each cluster's {column} total within ±{tol} of the mean",
        },
        "rep.rule.contiguous": {
            "vi": "Mỗi cụm liền mạch",
            "en": "Each cluster contiguous",
        },
        "rep.rule.one_region": {
            "vi": "Mỗi cụm chỉ một vùng",
            "en": "One region per cluster",
        },
        "rep.rule.one_function": {
            "vi": "Mỗi cụm chỉ một chức năng (khối)",
            "en": "One function per cluster (block)",
        },
        "rep.rule.max_moves": {
            "vi": "Số đơn vị chuyển cụm tối đa",
            "en": "Most units moved",
        },
        "rep.rule.together": {
            "vi": "Các nhóm phải chung cụm",
            "en": "Groups kept together",
        },
        "rep.rule.apart": {"vi": "Các nhóm phải khác cụm", "en": "Groups kept apart"},
        "rep.rule.fixed": {
            "vi": "Đơn vị cố định vào cụm",
            "en": "Units fixed to a cluster",
        },
        "rep.rule.holds": {"vi": "Đạt", "en": "Holds"},
        "rep.rule.fails": {"vi": "Không đạt", "en": "Fails"},
        "rep.rule.unknown": {"vi": "Chưa kiểm tra", "en": "Not checked"},
        "rep.missing": {"vi": "thiếu {k}/{n}", "en": "{k} of {n} missing"},
        "rep.yes": {"vi": "có", "en": "yes"},
        "rep.no": {"vi": "không", "en": "no"},
    }
)


def fmt_number(value: Any, lang: str, decimals: int | None = None) -> str:
    """Format a number the way the reader's language writes it.

    Vietnamese groups thousands with ``.`` and uses a decimal comma
    (``1.234.567,5``); English writes ``1,234,567.5``. Integers keep no
    decimals; ``None``/NaN become an em dash.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return tr("rep.yes") if value else tr("rep.no")
    if not isinstance(value, int | float):
        return str(value)
    if decimals is None:
        if float(value).is_integer() or abs(value) >= 1000:
            decimals = 0
        elif abs(value) >= 10:
            decimals = 1
        elif abs(value) >= 1:
            decimals = 2
        else:
            decimals = 3
    return localize_separators(f"{value:,.{decimals}f}", lang)


def metric_order(keys: Iterable[str]) -> list[str]:
    """Metric keys in the order every report shows them (sizes, dispersion, balance, purity…)."""
    rank = {k: i for i, k in enumerate((*BASE_COLUMNS, "balance_dev:", *TAIL_COLUMNS))}

    def key(name: str) -> tuple[int, str]:
        base = "balance_dev:" if name.startswith("balance_dev:") else name
        return (rank.get(base, len(rank)), name)

    return sorted(keys, key=key)


def metric_title(key: str) -> str:
    """Plain-language name of a metric column (``balance_dev:<col>`` included)."""
    if key.startswith("balance_dev:"):
        return tr("rep.metric.balance_dev", column=column_words(key.split(":", 1)[1]))
    msg = f"rep.metric.{key}"
    from features.i18n import has_message

    return tr(msg) if has_message(msg) else key


@dataclass(frozen=True, slots=True)
class ClusterRow:
    """One cluster as the report shows it.

    A total over a column with an empty cell in any member is NaN, never the
    sum of the known values: a partial sum printed as a total would make a
    cluster look smaller than it is (as ``plan.json`` writes ``null``).
    ``means`` and ``spread`` are over the known values only, and ``missing``
    counts the members without a value so every report can say so.
    """

    id: int
    label: str
    size: int
    members: tuple[tuple[str, str], ...]  # (unit_id, name)
    totals: Mapping[str, float]
    means: Mapping[str, float]
    spread: Mapping[str, float | None]  # max/min of a scale column inside the cluster
    main_function: str
    main_region: str
    missing: Mapping[str, int] = field(default_factory=dict)  # members without a value

    def missing_text(self, column: str) -> str:
        """``"thiếu 2/8"`` / ``"2 of 8 missing"`` for an incomplete column, else ``""``."""
        k = self.missing.get(column, 0)
        return tr("rep.missing", k=k, n=self.size) if k else ""


def _main(values: list[Any]) -> str:
    counts = Counter(
        v
        for v in values
        if v not in (None, "") and not (isinstance(v, float) and math.isnan(v))
    )
    if not counts:
        return "—"
    value, n = min(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return f"{value} ({n}/{len(values)})"


def cluster_rows(result: ScenarioResult) -> list[ClusterRow]:
    """Members, totals, means, spreads and main categories of every cluster.

    Rows come in natural label order (Cụm 1, Cụm 2, …, Cụm 10), which is how a
    planner looks them up; ``id`` keeps the cluster's colour in every chart.
    Columns are read once and sliced per cluster (``frame.loc`` per cluster
    took 2.5 s a call at 50 000 units and 1 000 clusters; a report calls this
    four times).
    """
    assert result.plan is not None
    plan, prof = result.plan, result.problem.profiles
    frame, numeric = prof.frame, prof.numeric_columns
    index = {u: r for r, u in enumerate(prof.unit_ids)}
    names = frame["name"].astype(str).tolist()
    functions = frame["functions"].tolist() if "functions" in frame else None
    regions = frame["region"].tolist() if "region" in frame else None
    figures = {col: frame[col].to_numpy(dtype=float) for col in numeric}
    parts = plan.assignment.parts()
    rows = []
    for c in range(plan.n_clusters):
        members = list(parts.get(c, ()))
        at = np.fromiter((index[u] for u in members), dtype=np.int64, count=len(members))
        totals, means, spread, missing = {}, {}, {}, {}
        for col, values in figures.items():
            vals = values[at]
            known = vals[~np.isnan(vals)]
            missing[col] = len(vals) - len(known)
            totals[col] = math.nan if missing[col] else float(vals.sum())
            means[col] = float(known.mean()) if len(known) else math.nan
            lo = float(known.min()) if len(known) else math.nan
            spread[col] = float(known.max()) / lo if len(known) and lo > 0 else None
        found = [f for r in at.tolist() for f in (functions[r] or ())] if functions else []
        rows.append(
            ClusterRow(
                id=c,
                label=plan.cluster_labels[c],
                size=len(members),
                members=tuple((u, names[r]) for u, r in zip(members, at.tolist(), strict=True)),
                totals=totals,
                means=means,
                spread=spread,
                main_function=_main(found) if found else "—",
                main_region=_main([regions[r] for r in at.tolist()] if regions else []),
                missing={col: k for col, k in missing.items() if k},
            )
        )
    return sorted(rows, key=lambda row: natural_key(row.label))


def natural_key(text: str) -> tuple[object, ...]:
    """Sort key that puts "Cụm 2" before "Cụm 10" (numbers compared as numbers)."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", text)
        if part
    )


def unit_rows(result: ScenarioResult) -> list[dict[str, Any]]:
    """One row per unit in table order: id, name, cluster, current, moved, categories, figures.

    Columns are read whole, not cell by cell: ``frame.at`` per unit and column
    took 1.4 s a call at 10 000 units, and a report calls this four times.
    """
    assert result.plan is not None
    plan, prof = result.plan, result.problem.profiles
    frame = prof.frame
    n = prof.n_units

    def column(name: str, default: Any) -> list[Any]:
        return frame[name].tolist() if name in frame else [default] * n

    def text(value: Any) -> str | None:
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        return None if missing else str(value)

    currents = column("current_cluster", None) if prof.has_current else [None] * n
    figures = {col: frame[col].to_numpy(dtype=float).tolist() for col in prof.numeric_columns}
    out = []
    for r, (unit, name, functions, region, current) in enumerate(
        zip(prof.unit_ids, column("name", ""), column("functions", ()),
            column("region", None), currents, strict=True)
    ):
        label = plan.cluster_labels[plan.assignment.labels[unit]]
        current = text(current)
        out.append(
            {
                "unit_id": unit,
                "name": str(name),
                "cluster": label,
                "current": current,
                "moved": (current is not None and current != label)
                if prof.has_current
                else None,
                "function": "; ".join(functions or ()),
                "region": text(region) or "",
                **{col: values[r] for col, values in figures.items()},
            }
        )
    return out


def move_rows(result: ScenarioResult) -> list[dict[str, Any]]:
    """Units whose proposed cluster differs from the grouping in force."""
    return [row for row in unit_rows(result) if row["moved"]]


def rule_rows(
    result: ScenarioResult, clusters: list[ClusterRow] | None = None
) -> list[dict[str, Any]]:
    """Each active rule: plain words, the setting, the value reached, and whether it holds.

    The value reached is recomputed here from the plan so the planner sees
    *how* a rule holds (e.g. the largest deviation against the tolerance); the
    verdict comes from these numbers, cross-checked by the runner's checks.
    ``clusters`` is :func:`cluster_rows` of ``result`` when the caller has it
    (0.4–0.7 s at 50 000 units).
    """
    rules, plan, prof = result.problem.rules, result.plan, result.problem.profiles
    if plan is None:
        return []
    if clusters is None:
        clusters = cluster_rows(result)
    sizes = [c.size for c in clusters]
    rows: list[dict[str, Any]] = []

    def add(
        key: str, setting: Any, actual: Any, holds: bool | None, **params: Any
    ) -> None:
        rows.append(
            {
                "key": key,
                "rule": tr(f"rep.rule.{key}", **params),
                "setting": setting,
                "actual": actual,
                "holds": holds,
                "percent": key == "balance",
            }
        )

    counts = rules.counts
    add(
        "count",
        f"{counts.start}" if len(counts) == 1 else f"{counts.start}–{counts.stop - 1}",
        plan.n_clusters,
        plan.n_clusters in counts,
    )
    lo, hi = rules.min_size, rules.max_size
    if lo is not None or hi is not None:
        add(
            "size",
            f"{lo if lo is not None else '—'}–{hi if hi is not None else '—'}",
            f"{min(sizes)}–{max(sizes)}",
            (lo is None or min(sizes) >= lo) and (hi is None or max(sizes) <= hi),
        )
    for column, tol in sorted(rules.balance.items()):
        totals = [c.totals.get(column, math.nan) for c in clusters]
        mean = sum(totals) / len(totals)
        dev = max(abs(t - mean) for t in totals) / mean if mean else 0.0
        add(
            "balance",
            tol,
            round(dev, 4),
            dev <= tol + 1e-9,
            column=column_words(column),
            tol=f"{tol:.0%}",
        )
    labels = plan.assignment.labels
    members = plan.assignment.parts()
    if rules.contiguous and result.problem.graph is not None:
        broken = sum(
            1
            for m in members.values()
            if not nx.is_connected(result.problem.graph.subgraph(m))
        )
        add("contiguous", True, broken, broken == 0)
    if rules.one_region:
        mixed = sum(
            1
            for c in clusters
            if len({prof.frame.at[u, "region"] for u, _ in c.members}) > 1
        )
        add("one_region", True, mixed, mixed == 0)
    if rules.one_function:
        mixed = sum(
            1
            for c in clusters
            if len(
                set.intersection(
                    *(set(prof.frame.at[u, "functions"]) for u, _ in c.members)
                )
            )
            == 0
        )
        add("one_function", True, mixed, mixed == 0)
    if rules.max_moves is not None and prof.has_current:
        moved = len(move_rows(result))
        add("max_moves", rules.max_moves, moved, moved <= rules.max_moves)
    if rules.together:
        ok = all(len({labels[u] for u in group}) == 1 for group in rules.together)
        add("together", len(rules.together), "", ok)
    if rules.apart:
        ok = all(len({labels[u] for u in group}) == len(group) for group in rules.apart)
        add("apart", len(rules.apart), "", ok)
    if rules.fixed:
        ok = all(
            plan.cluster_labels[labels[u]] == lab for u, lab in rules.fixed.items()
        )
        add("fixed", len(rules.fixed), "", ok)
    failed = [k for k, v in result.checks.items() if v != "ok"]
    for row in rows:
        if any(k.split(":")[0] == row["key"] for k in failed):
            row["holds"] = False
    return rows


def manifest_rows(result: ScenarioResult) -> list[tuple[str, str]]:
    """The audit record flattened to (key, text) pairs, keys dotted and sorted."""
    plan = result.plan
    record: dict[str, Any] = {
        "name": result.name,
        "status": plan.status.value if plan else "INFEASIBLE",
    }
    if plan is not None:
        record.update(
            objective=plan.objective,
            bound=plan.bound,
            gap=round(plan.gap, 6),
            seed=plan.seed,
            solve_seconds=round(plan.solve_seconds, 3),
        )
    if isinstance(result.manifest.get("scenario"), str):
        record.pop("name")
    flat: dict[str, str] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for k in sorted(value, key=str):
                walk(f"{prefix}.{k}" if prefix else str(k), value[k])
        elif isinstance(value, list | tuple):
            flat[prefix] = ", ".join(str(v) for v in value)
        else:
            flat[prefix] = str(value)

    walk(
        "", {**record, **{k: v for k, v in result.manifest.items() if k not in record}}
    )
    return sorted(flat.items())


def status_cell(result: ScenarioResult) -> str:
    """Plain words in the report language, then the code: "Tối ưu (OPTIMAL)".

    Shared by report.xlsx, comparison.xlsx and the lines ``plan`` and ``compare`` print.

    The code is what ``plan.json`` says (for scripts and auditors); the words
    are for the planner. An OPTIMAL status of the candidate-restricted model
    proves nothing about all plans, so its words say so.
    """
    plan = result.plan
    code = plan.status.value if plan is not None else "INFEASIBLE"
    key = f"rep.status.{code}"
    if plan is not None and plan.details.get("bound_scope") == "restricted":
        key = "rep.status.restricted" if code == "OPTIMAL" else key
    return f"{tr(key)} ({code})"
