"""Why each unit is where it is, and what shaped the plan as a whole.

Councils must defend a grouping in a meeting. For one unit this module says
which criteria tie it to its cluster (its nearest members on each similarity
criterion of :attr:`features.types.FeatureMatrix.groups`, the members sharing
its region and function) and what moving it elsewhere would cost: the change
of the objective (:mod:`optimizer.objective`, in the same units as
``Plan.objective``) and the rules the moved plan would break
(:func:`optimizer.check.check_plan`). For the plan it says which rules are
binding (tight), how far from optimal it may be, and which criteria drive the
dispersion. Everything is computed from the plan and the problem; nothing is
re-solved, so explanations are cheap and deterministic. The plan-level part
lives in :mod:`optimizer.explain_plan` and is re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from features.i18n import register, tr
from features.types import ClusterId, UnitId
from optimizer.check import check_plan
from optimizer.describe import format_number
from optimizer.explain_plan import (
    BINDING_BALANCE_SHARE,
    PlanSummary,
    _cost,
    _index,
    binding_rules,
    criterion_shares,
    summarize_plan,
)
from optimizer.objective import COST_SCALE, move_cost
from optimizer.plan import Assignment, Plan
from optimizer.problem import Problem
from optimizer.rule_words import rule_words

__all__ = [
    "BINDING_BALANCE_SHARE",
    "CriterionTie",
    "MoveOption",
    "PlanSummary",
    "UnitExplanation",
    "binding_rules",
    "criterion_shares",
    "explain_unit",
    "summarize_plan",
    "unit_verdict",
]

register(
    {
        "explain.unknown_unit": {
            "vi": "Không có đơn vị '{unit}' trong phương án.",
            "en": "Unit '{unit}' is not in the plan.",
        },
        "explain.verdict.kept_by_rules": {
            "vi": "Theo tiêu chí tương đồng, cụm '{label}' hợp hơn ({delta}), nhưng chuyển sang "
            "đó sẽ vi phạm {rules}: chính các quy tắc giữ đơn vị ở cụm hiện tại.",
            "en": "On similarity alone cluster '{label}' would suit it better ({delta}), but "
            "moving there breaks {rules}: the rules keep it where it is.",
        },
        "explain.verdict.best_here": {
            "vi": "Mọi cụm khác đều kém hơn; chuyển sang cụm gần nhất '{label}' làm mục tiêu "
            "tăng {delta}.",
            "en": "Every other cluster is worse; moving to the closest, '{label}', raises the "
            "objective by {delta}.",
        },
        "explain.verdict.improvable": {
            "vi": "Chuyển sang cụm '{label}' sẽ giảm mục tiêu {delta} mà không vi phạm quy tắc "
            "nào: phương án chưa tối ưu ở điểm này.",
            "en": "Moving to cluster '{label}' would lower the objective by {delta} without "
            "breaking a rule: the plan is not optimal here.",
        },
    }
)

#: Nearest members shown per criterion, and alternative clusters per unit.
N_NEAREST = 3
N_MOVES = 3
#: Only the cheapest this-many moves are checked against the rules (each check
#: verifies the whole plan), so explaining a unit stays fast with many clusters.
MAX_CHECKED_MOVES = 12


@dataclass(frozen=True, slots=True)
class CriterionTie:
    """How close a unit is to its cluster on one similarity criterion.

    ``nearest`` are the closest fellow members with their squared distance on
    this criterion's columns only; ``ratio`` is the unit's mean distance to its
    members divided by its mean distance to all other units (< 1: the
    criterion pulls it into this cluster; 0 when every member is identical).
    """

    criterion: str
    nearest: tuple[tuple[UnitId, float], ...]
    ratio: float


@dataclass(frozen=True, slots=True)
class MoveOption:
    """Moving the unit to ``cluster``: objective change and the rules it would break."""

    cluster: ClusterId
    label: str
    delta: float
    broken: tuple[str, ...]
    messages: tuple[str, ...]

    @property
    def broken_words(self) -> tuple[str, ...]:
        """The broken rules in planner words (``broken`` keeps the machine keys)."""
        return tuple(rule_words(k) for k in self.broken)


@dataclass(frozen=True, slots=True)
class UnitExplanation:
    """Why ``unit`` is in ``cluster`` (see :func:`explain_unit`)."""

    unit: UnitId
    name: str
    cluster: ClusterId
    label: str
    medoid: UnitId
    ties: tuple[CriterionTie, ...]
    same_region: tuple[UnitId, ...]
    same_function: tuple[UnitId, ...]
    cluster_size: int
    moves: tuple[MoveOption, ...]


def _stability_delta(unit: UnitId, src: str, dst: str, problem: Problem) -> int:
    """Integer stability cost change of moving ``unit`` from label ``src`` to ``dst``."""
    weight = problem.rules.stability_weight
    current = problem.profiles.frame.at[unit, "current_cluster"]
    if not weight or not isinstance(current, str) or not current:
        return 0
    return move_cost(weight) * (int(current != dst) - int(current != src))


def explain_unit(
    plan: Plan,
    problem: Problem,
    unit: UnitId,
    *,
    n_nearest: int = N_NEAREST,
    n_moves: int = N_MOVES,
    dist: np.ndarray | None = None,
) -> UnitExplanation:
    """Why ``unit`` is in its cluster, and what moving it would cost.

    Moves to every other cluster are scored; the :data:`MAX_CHECKED_MOVES`
    cheapest are checked against the rules and the ``n_moves`` best of those
    (rules kept first, then smallest objective increase) are returned. ``delta`` is
    in ``Plan.objective`` units: positive means the plan gets worse.
    """
    from features.errors import ClusterAssignError

    labels = dict(plan.assignment.labels)
    if unit not in labels:
        raise ClusterAssignError(tr("explain.unknown_unit", unit=unit))
    idx = _index(problem)
    fm = problem.features
    parts = {c: [idx[u] for u in m] for c, m in plan.assignment.parts().items()}
    home = labels[unit]
    members = [u for u in plan.assignment.parts()[home] if u != unit]
    _, medoid = _cost(parts[home], fm, dist)
    ties = _ties(problem, unit, members, n_nearest)
    frame = problem.profiles.frame
    region = frame.at[unit, "region"]
    functions = set(frame.at[unit, "functions"] or ())
    same_region = tuple(
        u for u in members if region and frame.at[u, "region"] == region
    )
    same_function = tuple(
        u for u in members if functions & set(frame.at[u, "functions"] or ())
    )
    home_cost = _cost(parts[home], fm, dist)[0]
    baseline = {(v.rule, v.message) for v in check_plan(plan, problem)}
    src_cost = _cost([i for i in parts[home] if i != idx[unit]], fm, dist)[0]
    deltas: list[tuple[int, ClusterId]] = []
    for target, target_rows in parts.items():
        if target == home:
            continue
        dst_cost = _cost([*target_rows, idx[unit]], fm, dist)[0]
        delta = src_cost + dst_cost - home_cost - _cost(target_rows, fm, dist)[0]
        delta += _stability_delta(
            unit, plan.cluster_labels[home], plan.cluster_labels[target], problem
        )
        deltas.append((delta, target))
    deltas.sort()
    moves: list[MoveOption] = []
    for delta, target in deltas[: max(n_moves, MAX_CHECKED_MOVES)]:
        moved = replace(plan, assignment=Assignment(labels={**labels, unit: target}))
        broken = [
            v for v in check_plan(moved, problem) if (v.rule, v.message) not in baseline
        ]
        moves.append(
            MoveOption(
                cluster=target,
                label=plan.cluster_labels[target],
                delta=delta / COST_SCALE,
                broken=tuple(dict.fromkeys(v.rule for v in broken)),
                messages=tuple(v.message for v in broken),
            )
        )
    moves.sort(key=lambda m: (bool(m.broken), m.delta, m.cluster))
    return UnitExplanation(
        unit=unit,
        name=str(frame.at[unit, "name"]),
        cluster=home,
        label=plan.cluster_labels[home],
        medoid=problem.features.unit_ids[medoid],
        ties=ties,
        same_region=same_region,
        same_function=same_function,
        cluster_size=len(members) + 1,
        moves=tuple(moves[:n_moves]),
    )


def _ties(
    problem: Problem, unit: UnitId, members: list[UnitId], n_nearest: int
) -> tuple[CriterionTie, ...]:
    """Per criterion: nearest members and the in-cluster / overall distance ratio."""
    fm = problem.features
    idx = _index(problem)
    row = fm.values[idx[unit]]
    others = [i for i in range(len(fm.unit_ids)) if i != idx[unit]]
    inside = [idx[u] for u in members]
    out = []
    for criterion, cols in fm.groups.items():
        cols_arr = np.asarray(cols, dtype=np.int64)
        if cols_arr.size == 0:
            continue
        d = ((fm.values[:, cols_arr] - row[cols_arr]) ** 2).sum(axis=1)
        if not inside:
            out.append(CriterionTie(criterion, (), 1.0))
            continue
        order = sorted(inside, key=lambda i: (d[i], i))[:n_nearest]
        overall = float(d[others].mean()) if others else 0.0
        mean_in = float(d[inside].mean())
        ratio = mean_in / overall if overall > 0 else 1.0
        nearest = tuple((fm.unit_ids[i], float(d[i])) for i in order)
        out.append(CriterionTie(criterion, nearest, ratio))
    out.sort(key=lambda t: (t.ratio, t.criterion))
    return tuple(out)


def unit_verdict(e: UnitExplanation) -> str:
    """One sentence a council can repeat: why the unit stays (or could move)."""
    if not e.moves:
        return ""
    free = [m for m in e.moves if not m.broken]
    if free and free[0].delta < 0:
        best = free[0]
        return tr(
            "explain.verdict.improvable",
            label=best.label,
            delta=format_number(-best.delta, decimals=3, significant=2),
        )
    cheapest = min(e.moves, key=lambda m: (m.delta, m.cluster))
    if cheapest.delta < 0 and cheapest.broken:
        return tr(
            "explain.verdict.kept_by_rules",
            label=cheapest.label,
            delta=format_number(cheapest.delta, decimals=3, significant=2),
            rules=", ".join(rule_words(k) for k in cheapest.broken),
        )
    return tr(
        "explain.verdict.best_here",
        label=cheapest.label,
        delta=format_number(cheapest.delta, decimals=3, significant=2),
    )
