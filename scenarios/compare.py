"""Side-by-side comparison of several solved scenarios.

Planners never pick a grouping from one run: they try 6 clusters by region
against 8 by function, with or without contiguity, and must defend the choice
to their council. :func:`compare` turns N :class:`ScenarioResult` objects into
one :class:`Comparison` with a stable row and column order, label-independent
distances between every pair of plans, the units whose cluster differs, and a
one-line verdict per scenario derived only from the numbers.

Cluster numbers are arbitrary (cluster 0 of one plan may be cluster 3 of
another), so every plan-to-plan figure is computed after matching labels
optimally on the contingency table's nonzero cells (a minimum-weight full
bipartite matching); those distances live in
:mod:`scenarios.partition_distance` and are re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from features.i18n import register, tr
from features.types import UnitId
from scenarios.errors import ScenarioError, ScenarioNotSolved
from scenarios.partition_distance import (
    contingency,
    match_labels,
    units_to_move,
    variation_of_information,
)
from scenarios.result import ScenarioResult

__all__ = [
    "BASE_COLUMNS",
    "TAIL_COLUMNS",
    "Comparison",
    "DifferingUnit",
    "PairDistance",
    "compare",
    "comparison_to_json",
    "contingency",
    "match_labels",
    "units_to_move",
    "variation_of_information",
]

register(
    {
        "cmp.verdict.balanced": {"vi": "cân bằng nhất", "en": "most balanced"},
        "cmp.verdict.fewest_moves": {"vi": "ít xáo trộn nhất", "en": "fewest moves"},
        "cmp.verdict.homogeneous": {"vi": "đồng nhất nhất", "en": "most homogeneous"},
        "cmp.verdict.even_sizes": {
            "vi": "quy mô cụm đều nhất",
            "en": "most even cluster sizes",
        },
        "cmp.verdict.function_pure": {
            "vi": "thuần chức năng nhất",
            "en": "purest by function",
        },
        "cmp.verdict.region_pure": {
            "vi": "gọn theo vùng nhất",
            "en": "purest by region",
        },
        "cmp.verdict.proven": {
            "vi": "đã chứng minh tối ưu",
            "en": "proven optimal",
        },
        "cmp.verdict.none": {
            "vi": "không dẫn đầu tiêu chí nào",
            "en": "leads on no criterion",
        },
        "cmp.verdict.no_plan": {
            "vi": "không có phương án: {reason}",
            "en": "no plan: {reason}",
        },
        "cmp.reason.unknown": {"vi": "không rõ lý do", "en": "reason unknown"},
        "cmp.names_unique": {
            "vi": "tên các kịch bản phải khác nhau: {names}",
            "en": "scenario names must be unique: {names}",
        },
        "cmp.different_units": {
            "vi": "không thể so sánh '{a}' với '{b}': hai kịch bản dùng hai bảng đơn vị "
            "khác nhau (tập mã đơn vị không trùng khớp)",
            "en": "cannot compare '{a}' with '{b}': they use different unit tables "
            "(the sets of unit ids differ)",
        },
    }
)

#: Metric columns in the order every table, sheet and chart shows them.
#: ``balance_dev:<column>`` entries are inserted after ``dispersion``.
BASE_COLUMNS: tuple[str, ...] = (
    "n_clusters",
    "size_min",
    "size_max",
    "size_spread",
    "dispersion",
)
TAIL_COLUMNS: tuple[str, ...] = (
    "function_purity",
    "region_purity",
    "disconnected_clusters",
    "units_moved",
)

#: verdict key -> (metric, better direction); ``balance`` is the worst column.
_VERDICT_RULES: tuple[tuple[str, str, int], ...] = (
    ("balanced", "max_balance_dev", -1),
    ("fewest_moves", "units_moved", -1),
    ("homogeneous", "dispersion", -1),
    ("even_sizes", "size_spread", -1),
    ("function_pure", "function_purity", +1),
    ("region_pure", "region_purity", +1),
)

#: Two metric values closer than this are a tie (both scenarios earn the verdict).
_TIE = 1e-9


@dataclass(frozen=True, slots=True)
class PairDistance:
    """How far apart two plans are, whatever their cluster numbering.

    ``variation_of_information`` is Meilă's VI in bits (0 = same partition);
    ``units_to_move`` is the fewest units that must change cluster to turn one
    plan into the other.
    """

    a: str
    b: str
    variation_of_information: float
    units_to_move: int


@dataclass(frozen=True, slots=True)
class DifferingUnit:
    """A unit whose cluster is not the same in every plan (after label matching).

    ``clusters`` maps each feasible scenario to the unit's cluster label *in
    that plan* (what the planner reads in each report).
    """

    unit_id: UnitId
    name: str
    clusters: Mapping[str, str]


@dataclass(frozen=True)
class Comparison:
    """Everything the comparison reports show, already ordered.

    ``names`` gives the row order (input order); ``columns`` the metric column
    order; ``values[name][column]`` a float or None when the metric does not
    apply (no balance rule, no current grouping, infeasible scenario).
    ``verdicts[name]`` holds verdict keys (``cmp.verdict.<key>``), and
    ``timings`` solve seconds, kept apart so golden tests can skip them.
    """

    results: tuple[ScenarioResult, ...]
    names: tuple[str, ...]
    columns: tuple[str, ...]
    values: Mapping[str, Mapping[str, float | None]]
    distances: tuple[PairDistance, ...]
    differing_units: tuple[DifferingUnit, ...]
    verdicts: Mapping[str, tuple[str, ...]]
    reasons: Mapping[str, str]
    timings: Mapping[str, float] = field(default_factory=dict)

    def verdict_text(self, name: str) -> str:
        """The verdict line of scenario ``name`` in the current language."""
        if name in self.reasons:
            return tr("cmp.verdict.no_plan", reason=self.reasons[name])
        keys = self.verdicts.get(name, ())
        if not keys:
            return tr("cmp.verdict.none")
        return ", ".join(tr(f"cmp.verdict.{key}") for key in keys)

    def result(self, name: str) -> ScenarioResult:
        return self.results[self.names.index(name)]


# --------------------------------------------------------------------------- #
# Comparison
# --------------------------------------------------------------------------- #


def _reason(result: ScenarioResult) -> str:
    if result.error is not None and str(result.error).strip():
        return str(result.error).strip().splitlines()[0]
    return tr("cmp.reason.unknown")


def _sizes(result: ScenarioResult) -> list[int]:
    assert result.plan is not None
    return sorted(len(m) for m in result.plan.assignment.parts().values())


def _metric_values(
    result: ScenarioResult, columns: Sequence[str]
) -> dict[str, float | None]:
    """The metrics of one scenario, filling size figures from the plan itself."""
    values: dict[str, float | None] = {c: None for c in columns}
    if result.plan is None:
        return values
    sizes = _sizes(result)
    derived = {
        "n_clusters": float(len(sizes)),
        "size_min": float(sizes[0]),
        "size_max": float(sizes[-1]),
        "size_spread": float(sizes[-1] - sizes[0]),
    }
    for column in columns:
        raw = result.metrics.get(column, derived.get(column))
        if raw is None or (isinstance(raw, float) and math.isnan(raw)):
            values[column] = None
        else:
            values[column] = float(raw)
    if not result.problem.profiles.has_current and "units_moved" in values:
        values["units_moved"] = None
    return values


def _columns(results: Sequence[ScenarioResult]) -> tuple[str, ...]:
    balance = sorted(
        {k for r in results for k in r.metrics if k.startswith("balance_dev:")}
        | {f"balance_dev:{c}" for r in results for c in r.problem.rules.balance}
    )
    known = set(BASE_COLUMNS) | set(TAIL_COLUMNS) | set(balance)
    extra = sorted({k for r in results for k in r.metrics if k not in known})
    return (*BASE_COLUMNS, *balance, *TAIL_COLUMNS, *extra)


def _verdicts(
    names: Sequence[str], values: Mapping[str, Mapping[str, float | None]], ok: set[str]
) -> dict[str, tuple[str, ...]]:
    """Give each verdict to every feasible scenario that is best (ties share it)."""
    verdicts: dict[str, list[str]] = {n: [] for n in names}
    for key, metric, direction in _VERDICT_RULES:
        scores: dict[str, float] = {}
        for n in names:
            value = values[n].get(metric)
            if n in ok and value is not None:
                scores[n] = value
        if len(scores) < 2 or max(scores.values()) - min(scores.values()) <= _TIE:
            continue  # a verdict means something only when scenarios differ
        best = max(scores.values()) if direction > 0 else min(scores.values())
        for n, score in scores.items():
            if abs(score - best) <= _TIE:
                verdicts[n].append(key)
    return {n: tuple(v) for n, v in verdicts.items()}


def _differing_units(
    results: Sequence[ScenarioResult],
) -> tuple[DifferingUnit, ...]:
    ok = [r for r in results if r.plan is not None]
    if len(ok) < 2:
        return ()
    labels = [dict(r.plan.assignment.labels) for r in ok]  # type: ignore[union-attr]
    differing: set[UnitId] = set()
    for i, j in combinations(range(len(ok)), 2):
        mapping = match_labels(labels[i], labels[j])
        differing.update(u for u, c in labels[j].items() if mapping[c] != labels[i][u])
    # the table's own order (a position lookup, not list.index: 4 839 differing units of
    # 50 000 took 1.7 s that way)
    position = {unit: i for i, unit in enumerate(ok[0].problem.unit_ids)}
    names = ok[0].problem.profiles.frame["name"]
    out = []
    for unit in sorted(differing, key=position.__getitem__):
        clusters = {
            r.name: r.plan.cluster_labels[r.plan.assignment.labels[unit]]  # type: ignore[union-attr]
            for r in ok
        }
        out.append(
            DifferingUnit(unit_id=unit, name=str(names[unit]), clusters=clusters)
        )
    return tuple(out)


def compare(results: Sequence[ScenarioResult]) -> Comparison:
    """Compare solved (or infeasible) scenarios side by side.

    Parameters
    ----------
    results
        One result per scenario, in the order the planner gave them; that
        order is kept. Names must be unique. Infeasible scenarios (``plan``
        None) keep their row with the reason and no metrics.

    Returns
    -------
    Comparison
        Metrics table, pairwise distances, differing units and verdicts.

    Raises
    ------
    ScenarioError
        If names repeat or feasible plans cover different unit sets.
    """
    names = tuple(r.name for r in results)
    if len(set(names)) != len(names):
        raise ScenarioError(tr("cmp.names_unique", names=", ".join(names)))
    feasible = [r for r in results if r.plan is not None]
    units = [set(r.plan.assignment.labels) for r in feasible]  # type: ignore[union-attr]
    for other, other_units in zip(feasible[1:], units[1:], strict=True):
        if other_units != units[0]:
            raise ScenarioError(
                tr("cmp.different_units", a=feasible[0].name, b=other.name)
            )
    columns = _columns(results)
    values: dict[str, dict[str, float | None]] = {}
    # "most balanced" compares like with like: the columns some scenario balances
    balanced = {f"balance_dev:{c}" for r in results for c in r.problem.rules.balance}
    for result in results:
        row = _metric_values(result, columns)
        devs = [v for k, v in row.items() if k in balanced and v is not None]
        row["max_balance_dev"] = max(devs) if devs else None
        values[result.name] = row
    ok = {r.name for r in results if r.plan is not None}
    verdicts = _verdicts(names, values, ok)
    for result in results:
        plan = result.plan
        if (
            plan is not None
            and plan.status.value == "OPTIMAL"
            and plan.details.get("bound_scope") != "restricted"
        ):
            verdicts[result.name] = (*verdicts[result.name], "proven")
    distances = []
    for ra, rb in combinations(feasible, 2):
        la = dict(ra.plan.assignment.labels)  # type: ignore[union-attr]
        lb = dict(rb.plan.assignment.labels)  # type: ignore[union-attr]
        distances.append(
            PairDistance(
                a=ra.name,
                b=rb.name,
                variation_of_information=variation_of_information(la, lb),
                units_to_move=units_to_move(la, lb),
            )
        )
    return Comparison(
        results=tuple(results),
        names=names,
        columns=columns,
        values=values,
        distances=tuple(distances),
        differing_units=_differing_units(results),
        verdicts=verdicts,
        reasons={r.name: _reason(r) for r in results if r.plan is None},
        timings={r.name: round(r.plan.solve_seconds, 3) for r in feasible},  # type: ignore[union-attr]
    )


def _num(value: float | None, digits: int = 6) -> float | None:
    """Fixed precision so JSON output is byte-stable across runs and platforms."""
    if value is None:
        return None
    return float(f"{value:.{digits}f}")


def comparison_to_json(comparison: Comparison) -> dict[str, Any]:
    """The ``comparison.json`` document (spec: entries, distances, differing units).

    Floats carry 6 decimals; verdict texts are in the current language, verdict
    keys are language-independent for scripts.
    """
    scenarios = []
    for name in comparison.names:
        result = comparison.result(name)
        plan = result.plan
        entry: dict[str, Any] = {
            "name": name,
            "status": plan.status.value if plan else "INFEASIBLE",
            "error": comparison.reasons.get(name),
            "objective": _num(plan.objective) if plan else None,
            "bound": _num(plan.bound) if plan else None,
            "gap": _num(plan.gap) if plan else None,
            "bound_scope": str(plan.details.get("bound_scope", "full"))
            if plan
            else None,
            "n_clusters": plan.n_clusters if plan else None,
            "sizes": _sizes(result) if plan else [],
            "metrics": {
                c: _num(comparison.values[name][c]) for c in comparison.columns
            },
            "checks": dict(sorted(result.checks.items())),
            "verdicts": list(comparison.verdicts.get(name, ())),
            "verdict_text": comparison.verdict_text(name),
            "notes": list(plan.notes) if plan else [],
        }
        if plan is None and type(result.error).__name__ == "NoSolutionError":
            entry["status"] = "NO_SOLUTION"
        if plan is None and isinstance(result.error, ScenarioNotSolved):
            entry["status"] = "NOT_SOLVED"
        scenarios.append(entry)
    return {
        "scenarios": scenarios,
        "columns": list(comparison.columns),
        "distances": [
            {
                "a": d.a,
                "b": d.b,
                "variation_of_information": _num(d.variation_of_information),
                "units_to_move": d.units_to_move,
            }
            for d in comparison.distances
        ],
        "differing_units": [
            {"unit_id": u.unit_id, "name": u.name, "clusters": dict(u.clusters)}
            for u in comparison.differing_units
        ],
        "timings": {
            "solve_seconds": {k: _num(v, 3) for k, v in comparison.timings.items()}
        },
    }
