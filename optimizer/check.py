"""Solver-free plan checker: the executable specification of every planner rule.

Each ``_check_<rule>`` below restates one field of :class:`optimizer.problem.Rules`
in plain code, independent of how the CP-SAT model encodes it. Every plan is
checked before it is written (``plan`` refuses a plan with violations), and the
tests run it on every plan the solver returns, so a modelling bug shows up as a
named, located violation instead of a silently wrong grouping.

Rule names (keys of :func:`checks_summary`, ``Violation.rule``):
``partition``, ``clusters``, ``min_size``, ``max_size``, ``balance:<column>``,
``contiguous``, ``one_region``, ``one_function``, ``together``, ``apart``,
``fixed``, ``max_moves``. ``partition`` and ``clusters`` are always active; the
others only when the rule is set.

Balance uses a relative tolerance of :data:`BALANCE_EPS` (1e-9 of the mean,
at least 1e-9 absolute) so float rounding never rejects a plan an exact model
accepted; a model that rounds scaled figures must round its bounds inwards.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

import optimizer.messages_check  # noqa: F401  (registers the check.* messages)
from features.graph import is_connected_subset, pieces
from features.i18n import tr
from features.types import ClusterId, UnitId
from optimizer.data import ModelData
from optimizer.labels import label_partition
from optimizer.plan import Assignment, Plan, SolveStatus
from optimizer.problem import Problem

#: Relative slack on balance bounds, absorbing float noise in cluster totals.
BALANCE_EPS = 1e-9

#: Units listed in one message at most; the rest are counted.
MAX_LISTED = 10



@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: which rule, what was found (rendered text), which units."""

    rule: str
    message: str
    units: tuple[UnitId, ...] = ()


def check_plan(plan: Plan, problem: Problem) -> list[Violation]:
    """Every violation of ``problem.rules`` by ``plan``; empty when the plan is valid.

    Rules are checked in the order of the module docstring. Rule checks after
    ``partition`` only look at units that are both in the plan and the problem,
    so one missing unit is reported once, not by every rule.
    """
    ctx = _Context(plan, problem)
    violations = _check_partition(ctx) + _check_clusters(ctx)
    rules = problem.rules
    if rules.min_size is not None or rules.max_size is not None:
        violations += _check_sizes(ctx)
    for column, tol in rules.balance.items():
        violations += _check_balance(ctx, column, tol)
    if rules.contiguous:
        violations += _check_contiguous(ctx)
    if rules.one_region:
        violations += _check_one_region(ctx)
    if rules.one_function:
        violations += _check_one_function(ctx)
    if rules.together:
        violations += _check_together(ctx)
    if rules.apart:
        violations += _check_apart(ctx)
    if rules.fixed:
        violations += _check_fixed(ctx)
    if rules.max_moves is not None:
        violations += _check_max_moves(ctx)
    return violations


def partition_passes(problem: Problem, data: ModelData, groups: Sequence[int]) -> bool:
    """Whether the partition ``groups`` (unit index -> any id its cluster's units
    share: a medoid or a label) meets every rule, by :func:`check_plan`.

    The solver's phases hand plans around as such arrays; this is how each one
    is verified before it may replace the plan in hand, with the same checker
    every written plan passes.
    """
    clusters, labels = label_partition(list(groups), data)
    ids = problem.unit_ids
    plan = Plan(
        assignment=Assignment({ids[i]: c for i, c in enumerate(clusters)}),
        cluster_labels=labels, status=SolveStatus.FEASIBLE, objective=0.0, bound=0.0,
        solve_seconds=0.0, seed=problem.settings.seed,
    )
    return not check_plan(plan, problem)


def active_rules(problem: Problem) -> list[str]:
    """Names of the rules :func:`check_plan` verifies for ``problem``, in check order."""
    rules = problem.rules
    names = ["partition", "clusters"]
    names += ["min_size"] if rules.min_size is not None else []
    names += ["max_size"] if rules.max_size is not None else []
    names += [f"balance:{column}" for column in rules.balance]
    flags = {
        "contiguous": rules.contiguous,
        "one_region": rules.one_region,
        "one_function": rules.one_function,
        "together": bool(rules.together),
        "apart": bool(rules.apart),
        "fixed": bool(rules.fixed),
        "max_moves": rules.max_moves is not None,
    }
    return names + [name for name, on in flags.items() if on]


def checks_summary(plan: Plan, problem: Problem) -> dict[str, str]:
    """Active rule -> ``"ok"`` or its violation messages joined by ``"; "`` (``plan.json`` ``checks``)."""
    found: dict[str, list[str]] = defaultdict(list)
    for violation in check_plan(plan, problem):
        found[violation.rule].append(violation.message)
    return {
        rule: "; ".join(found[rule]) if found[rule] else "ok"
        for rule in active_rules(problem)
    }


class _Context:
    """The plan seen per cluster, computed once and shared by the rule checks."""

    def __init__(self, plan: Plan, problem: Problem) -> None:
        self.plan = plan
        self.problem = problem
        self.k = len(plan.cluster_labels)
        known = set(problem.unit_ids)
        self.labels: dict[UnitId, ClusterId] = {
            u: c for u, c in plan.assignment.labels.items() if u in known
        }
        parts: dict[ClusterId, list[UnitId]] = defaultdict(list)
        for unit in problem.unit_ids:  # unit order of the table, for stable messages
            if unit in self.labels:
                parts[self.labels[unit]].append(unit)
        self.parts: dict[ClusterId, list[UnitId]] = dict(sorted(parts.items()))

    def label(self, cluster: ClusterId) -> str:
        if 0 <= cluster < self.k:
            return self.plan.cluster_labels[cluster]
        return f"#{cluster}"


def _listing(units: Sequence[object]) -> str:
    shown = ", ".join(str(u) for u in units[:MAX_LISTED])
    if len(units) > MAX_LISTED:
        shown += " " + tr("check.more", n=len(units) - MAX_LISTED)
    return shown


def _check_partition(ctx: _Context) -> list[Violation]:
    """Every unit of the problem is in exactly one cluster, and nothing else is."""
    problem_units = ctx.problem.unit_ids
    plan_units = ctx.plan.assignment.labels
    missing = [u for u in problem_units if u not in plan_units]
    known = set(problem_units)
    unknown = sorted(str(u) for u in plan_units if u not in known)
    out = []
    if missing:
        msg = tr("check.partition.missing", n=len(missing), units=_listing(missing))
        out.append(Violation("partition", msg, tuple(missing)))
    if unknown:
        msg = tr("check.partition.unknown", n=len(unknown), units=_listing(unknown))
        out.append(Violation("partition", msg, tuple(unknown)))
    return out


def _check_clusters(ctx: _Context) -> list[Violation]:
    """Cluster ids are 0..K-1 (K = number of labels), none is empty, K is allowed."""
    out = []
    bad = sorted(
        {c for c in ctx.plan.assignment.labels.values() if not (0 <= c < ctx.k)}
    )
    if bad:
        units = tuple(u for u, c in ctx.labels.items() if c in set(bad))
        msg = tr("check.clusters.bad_id", last=ctx.k - 1, ids=_listing(bad))
        out.append(Violation("clusters", msg, units))
    empty = [c for c in range(ctx.k) if c not in ctx.parts]
    if empty:
        labels = _listing([ctx.label(c) for c in empty])
        out.append(Violation("clusters", tr("check.clusters.empty", labels=labels)))
    allowed = ctx.problem.rules.counts
    if ctx.k not in allowed:
        text = (
            str(allowed.start)
            if len(allowed) == 1
            else f"{allowed.start}–{allowed.stop - 1}"
        )
        out.append(
            Violation("clusters", tr("check.clusters.count", k=ctx.k, allowed=text))
        )
    duplicates = sorted(
        lbl for lbl, n in Counter(ctx.plan.cluster_labels).items() if n > 1
    )
    if duplicates:
        msg = tr("check.clusters.duplicate_label", labels=_listing(duplicates))
        out.append(Violation("clusters", msg))
    return out


def _check_sizes(ctx: _Context) -> list[Violation]:
    """Every cluster has between ``min_size`` and ``max_size`` units (empty ones included)."""
    rules = ctx.problem.rules
    out = []
    for cluster in range(ctx.k):
        members = ctx.parts.get(cluster, [])
        size = len(members)
        label = ctx.label(cluster)
        if rules.min_size is not None and size < rules.min_size:
            msg = tr("check.min_size", label=label, size=size, limit=rules.min_size)
            out.append(Violation("min_size", msg, tuple(members)))
        if rules.max_size is not None and size > rules.max_size:
            msg = tr("check.max_size", label=label, size=size, limit=rules.max_size)
            out.append(Violation("max_size", msg, tuple(members)))
    return out


def _check_balance(ctx: _Context, column: str, tol: float) -> list[Violation]:
    """Each cluster total of ``column`` lies within ``mean * (1 ± tol)``, mean = total / K."""
    rule = f"balance:{column}"
    profiles = ctx.problem.profiles
    values = dict(zip(profiles.unit_ids, profiles.column_values(column)))
    empty = [u for u, v in values.items() if np.isnan(v)]
    if empty:
        msg = tr("check.balance.missing", column=column, units=_listing(empty))
        return [Violation(rule, msg, tuple(empty))]
    if ctx.k == 0:
        return []
    mean = sum(values.values()) / ctx.k
    slack = BALANCE_EPS * max(abs(mean), 1.0)
    low, high = mean - abs(mean) * tol, mean + abs(mean) * tol
    out = []
    for cluster in range(ctx.k):
        members = ctx.parts.get(cluster, [])
        total = float(sum(values[u] for u in members))
        if total < low - slack or total > high + slack:
            msg = tr(
                "check.balance",
                label=ctx.label(cluster),
                column=column,
                total=total,
                low=low,
                high=high,
                mean=mean,
                pct=round(tol * 100, 6),
            )
            out.append(Violation(rule, msg, tuple(members)))
    return out


def _check_contiguous(ctx: _Context) -> list[Violation]:
    """Every cluster induces a connected subgraph of the adjacency graph."""
    graph = ctx.problem.graph
    if graph is None:
        return [Violation("contiguous", tr("check.contiguous.no_graph"))]
    out = []
    for cluster, members in ctx.parts.items():
        if not is_connected_subset(graph, members):
            split = pieces(graph, members)
            detached = sorted(u for piece in split[1:] for u in piece)
            msg = tr(
                "check.contiguous",
                label=ctx.label(cluster),
                n=len(split),
                units=_listing(detached),
            )
            out.append(Violation("contiguous", msg, tuple(detached)))
    return out


def _check_one_region(ctx: _Context) -> list[Violation]:
    """No cluster holds two different regions (units without a region fit anywhere)."""
    region = ctx.problem.profiles.frame["region"]
    out = []
    for cluster, members in ctx.parts.items():
        found = {
            u: region[u] for u in members if isinstance(region[u], str) and region[u]
        }
        distinct = sorted(set(found.values()))
        if len(distinct) > 1:
            msg = tr(
                "check.one_region", label=ctx.label(cluster), regions=_listing(distinct)
            )
            out.append(Violation("one_region", msg, tuple(found)))
    return out


def _check_one_function(ctx: _Context) -> list[Violation]:
    """Block mode: the members of each cluster share at least one function."""
    functions = {
        u: frozenset(v) if isinstance(v, (tuple, list)) else frozenset()
        for u, v in ctx.problem.profiles.frame["functions"].items()
    }
    out = []
    missing = [u for u in ctx.labels if not functions[u]]
    if missing:
        msg = tr("check.one_function.missing", units=_listing(missing))
        out.append(Violation("one_function", msg, tuple(missing)))
    for cluster, members in ctx.parts.items():
        sets = [functions[u] for u in members if functions[u]]
        if sets and not frozenset.intersection(*sets):
            seen = _listing(sorted(set().union(*sets)))
            msg = tr("check.one_function", label=ctx.label(cluster), functions=seen)
            out.append(Violation("one_function", msg, tuple(members)))
    return out


def _check_together(ctx: _Context) -> list[Violation]:
    """All units of each ``together`` group share one cluster."""
    out = []
    for group in ctx.problem.rules.together:
        present = [u for u in group if u in ctx.labels]
        clusters = {ctx.labels[u] for u in present}
        if len(clusters) > 1:
            msg = tr("check.together", group=_listing(list(group)), n=len(clusters))
            out.append(Violation("together", msg, tuple(present)))
    return out


def _check_apart(ctx: _Context) -> list[Violation]:
    """The units of each ``apart`` group are in pairwise different clusters."""
    out = []
    for group in ctx.problem.rules.apart:
        present = [u for u in group if u in ctx.labels]
        for i, a in enumerate(present):
            for b in present[i + 1 :]:
                if ctx.labels[a] == ctx.labels[b]:
                    msg = tr("check.apart", a=a, b=b, label=ctx.label(ctx.labels[a]))
                    out.append(Violation("apart", msg, (a, b)))
    return out


def _check_fixed(ctx: _Context) -> list[Violation]:
    """Units fixed to one label share a cluster carrying that label; labels differ by cluster."""
    by_label: dict[str, list[UnitId]] = defaultdict(list)
    for unit, label in ctx.problem.rules.fixed.items():
        if unit in ctx.labels:
            by_label[label].append(unit)
    out = []
    label_of_cluster: dict[ClusterId, list[str]] = defaultdict(list)
    for label, units in by_label.items():
        clusters = sorted({ctx.labels[u] for u in units})
        if len(clusters) > 1:
            msg = tr(
                "check.fixed.split", label=label, n=len(clusters), units=_listing(units)
            )
            out.append(Violation("fixed", msg, tuple(units)))
        for cluster in clusters:
            label_of_cluster[cluster].append(label)
            actual = ctx.label(cluster)
            if actual != label:
                members = tuple(u for u in units if ctx.labels[u] == cluster)
                msg = tr("check.fixed.label", label=label, actual=actual)
                out.append(Violation("fixed", msg, members))
    for cluster, labels in sorted(label_of_cluster.items()):
        if len(labels) > 1:
            merged = tuple(
                u for lbl in labels for u in by_label[lbl] if ctx.labels[u] == cluster
            )
            msg = tr("check.fixed.merged", labels=_listing(sorted(labels)))
            out.append(Violation("fixed", msg, merged))
    return out


def moved_units(plan: Plan, problem: Problem) -> list[UnitId]:
    """Units whose known ``current_cluster`` differs from the label of their new cluster."""
    current: Mapping[UnitId, object] = problem.profiles.frame["current_cluster"]
    labels = plan.cluster_labels
    assigned = plan.assignment.labels
    moved = []
    for unit, now in current.items():
        cluster = assigned.get(unit)
        if cluster is None or not (isinstance(now, str) and now):
            continue
        if not 0 <= cluster < len(labels) or labels[cluster] != now:
            moved.append(unit)
    return moved


def _check_max_moves(ctx: _Context) -> list[Violation]:
    """At most ``max_moves`` units change cluster relative to ``current_cluster``."""
    limit = ctx.problem.rules.max_moves
    assert limit is not None
    moved = moved_units(ctx.plan, ctx.problem)
    if len(moved) <= limit:
        return []
    msg = tr("check.max_moves", n=len(moved), limit=limit, units=_listing(moved))
    return [Violation("max_moves", msg, tuple(moved))]
