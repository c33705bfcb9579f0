"""What shaped a plan as a whole: binding rules, distance from optimal, drivers.

Split from :mod:`optimizer.explain` (module size), which re-exports every
name here. A council reads this before any single unit: which numeric rules
are at their limit (relaxing them may help), how far from optimal the plan
may be (and whether that bound covers every plan), and which similarity
criteria account for the remaining dispersion inside clusters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.i18n import register, tr
from features.types import ClusterId, FeatureMatrix, UnitId
from optimizer.check import moved_units
from optimizer.describe import format_number
from optimizer.objective import central_members, cluster_cost
from optimizer.plan import Plan, SolveStatus
from optimizer.problem import Problem

register(
    {
        "explain.binding.min_size": {
            "vi": "min_size = {m}: cụm {labels} ở đúng cận dưới",
            "en": "min_size = {m}: cluster(s) {labels} at the lower bound",
        },
        "explain.binding.max_size": {
            "vi": "max_size = {m}: cụm {labels} ở đúng cận trên",
            "en": "max_size = {m}: cluster(s) {labels} at the upper bound",
        },
        "explain.binding.balance": {
            "vi": "cân đối '{column}' ±{pct} %: tổng của cụm {labels} cách biên chưa tới 1 % mức trung bình",
            "en": "'{column}' balance ±{pct} %: the total of cluster(s) {labels} is "
            "within 1 % of the mean from the band edge",
        },
        "explain.binding.max_moves": {
            "vi": "max_moves = {m}: đã dùng hết ({n} đơn vị đổi cụm)",
            "en": "max_moves = {m}: all used ({n} units change cluster)",
        },
        "explain.quality.optimal": {
            "vi": "Tối ưu đã được chứng minh: không phương án nào theo cùng quy tắc có "
            "mục tiêu thấp hơn {objective}.",
            "en": "Proven optimal: no plan under the same rules has an objective below {objective}.",
        },
        "explain.quality.feasible": {
            "vi": "Phương án khả thi; mục tiêu {objective}, cận dưới {bound}: cách tối ưu nhiều "
            "nhất {gap} %.",
            "en": "Feasible plan; objective {objective}, lower bound {bound}: at most {gap} % "
            "from optimal.",
        },
        "explain.quality.restricted": {
            "vi": "Cận dưới chỉ đúng cho mô hình đã thu hẹp ứng viên (mỗi đơn vị chỉ xét một "
            "số cụm gần), nên khoảng cách này không phải là bảo đảm tuyệt đối.",
            "en": "The bound holds for the candidate-restricted model only (each unit "
            "considered for a few nearby clusters), so this gap is not an absolute guarantee.",
        },
        "explain.driver": {
            "vi": "{criterion}: {share} % độ phân tán trong cụm",
            "en": "{criterion}: {share} % of the within-cluster dispersion",
        },
        "explain.binding.more": {
            "vi": "{names} và {n} cụm khác",
            "en": "{names} and {n} more",
        },
        "explain.nothing_binding": {
            "vi": "Không quy tắc số nào đang ở sát giới hạn.",
            "en": "No numeric rule is at its limit.",
        },
    }
)

#: A balance total closer than this share of the mean to its band edge is binding.
BINDING_BALANCE_SHARE = 0.01
#: Clusters a binding-rule line names before "and N more". Every name was listed
#: before: at 50 000 units in 8 333 clusters one line of `cumkhoi explain` (and of
#: report.html) named thousands of clusters, 59 000 characters no one reads.
BINDING_NAMES_SHOWN = 10


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """Binding rules, distance from optimal and the criteria that drove the plan."""

    status: SolveStatus
    objective: float
    bound: float
    gap: float
    quality: str
    binding: tuple[str, ...]
    drivers: tuple[tuple[str, float], ...]


def _index(problem: Problem) -> dict[UnitId, int]:
    return {u: i for i, u in enumerate(problem.features.unit_ids)}


def _cost(
    rows: list[int], features: FeatureMatrix, dist: np.ndarray | None
) -> tuple[int, int]:
    """Integer cost and medoid row of one cluster (:func:`objective.cluster_cost`).

    Without a full distance matrix only the cluster's own pairs are computed
    (:func:`objective.central_members`, which never holds a cluster's whole
    pair matrix either), so explaining one unit of a 10 000-unit table needs no
    n × n matrix.
    """
    if not rows:
        return 0, -1
    if dist is not None:
        return cluster_cost(rows, dist)
    (medoid,), (cost,) = central_members(features, rows)
    return int(cost), int(medoid)


def criterion_shares(plan: Plan, problem: Problem) -> dict[str, float]:
    """Share of the within-cluster dispersion (to each medoid) due to each criterion.

    Squared distances split exactly by feature columns, so the shares of the
    criteria sum to 1 (0 for all when every cluster is uniform).
    """
    fm = problem.features
    idx = _index(problem)
    per = dict.fromkeys(fm.groups, 0.0)
    for members in plan.assignment.parts().values():
        rows = [idx[u] for u in members]
        _, medoid = _cost(rows, fm, None)
        diff = fm.values[rows] - fm.values[medoid]
        for criterion, cols in fm.groups.items():
            per[criterion] += float((diff[:, list(cols)] ** 2).sum()) if cols else 0.0
    total = sum(per.values())
    return {c: (v / total if total > 0 else 0.0) for c, v in per.items()}


def binding_rules(plan: Plan, problem: Problem) -> list[str]:
    """Numeric rules at their limit: sizes at a bound, balance near an edge, moves used up."""
    rules = problem.rules
    parts = plan.assignment.parts()
    out: list[str] = []

    def names(clusters: list[ClusterId]) -> str:
        shown = ", ".join(f"'{plan.cluster_labels[c]}'" for c in clusters[:BINDING_NAMES_SHOWN])
        rest = len(clusters) - BINDING_NAMES_SHOWN
        return shown if rest <= 0 else tr("explain.binding.more", names=shown,
                                          n=format_number(rest, decimals=0))

    for kind in ("min_size", "max_size"):
        limit = getattr(rules, kind)
        at = [c for c, m in parts.items() if limit is not None and len(m) == limit]
        if at:
            out.append(tr(f"explain.binding.{kind}", m=limit, labels=names(at)))
    frame = problem.profiles.frame
    k = len(parts)
    # each cluster's totals from one pass (a frame lookup per cluster took ~1 s at 10 000 units)
    position = {unit: i for i, unit in enumerate(frame.index)}
    clusters = list(parts)
    owner = np.full(len(frame), len(clusters), dtype=np.int64)  # last slot: in no cluster
    for slot, c in enumerate(clusters):
        owner[[position[u] for u in parts[c]]] = slot
    for column, tol in rules.balance.items():
        values = frame[column].fillna(0.0).to_numpy(dtype=np.float64)
        mean = float(values.sum()) / k
        low, high = mean * (1 - tol), mean * (1 + tol)
        totals = np.bincount(owner, weights=values, minlength=len(clusters) + 1)
        near = [
            c
            for slot, c in enumerate(clusters)
            if min(abs(float(totals[slot]) - e) for e in (low, high))
            <= BINDING_BALANCE_SHARE * abs(mean)
        ]
        if near:
            pct = format_number(tol * 100)
            out.append(
                tr(
                    "explain.binding.balance",
                    column=column,
                    pct=pct,
                    labels=names(near),
                )
            )
    if rules.max_moves is not None:
        n = len(moved_units(plan, problem))
        if n >= rules.max_moves:
            out.append(tr("explain.binding.max_moves", m=rules.max_moves, n=n))
    return out


def summarize_plan(
    plan: Plan, problem: Problem, *, bound_scope: str | None = None
) -> PlanSummary:
    """Which rules bind, how far from optimal the plan may be, what drove it.

    ``bound_scope`` (``plan.json``; default ``plan.details``) is ``"restricted"``
    when the solver's bound only covers the candidate-pruned model: the gap is
    then not a guarantee against every plan, and the summary says so.
    """
    if bound_scope is None:
        bound_scope = str(plan.details.get("bound_scope", "full"))

    objective = format_number(plan.objective, decimals=3)
    if plan.status is SolveStatus.OPTIMAL:
        quality = tr("explain.quality.optimal", objective=objective)
    else:
        quality = tr(
            "explain.quality.feasible",
            objective=objective,
            bound=format_number(plan.bound, decimals=3),
            gap=format_number(plan.gap * 100, decimals=1),
        )
    if bound_scope == "restricted":
        quality += " " + tr("explain.quality.restricted")
    shares = criterion_shares(plan, problem)
    drivers = tuple(sorted(shares.items(), key=lambda kv: (-kv[1], kv[0])))
    return PlanSummary(
        status=plan.status,
        objective=plan.objective,
        bound=plan.bound,
        gap=plan.gap,
        quality=quality,
        binding=tuple(binding_rules(plan, problem)),
        drivers=drivers,
    )
