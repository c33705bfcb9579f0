"""The scenario's rules as separate instances, each stated in planner words.

Why: "infeasible" is only useful when it names *which* rules clash. A
:class:`RuleInstance` is the smallest piece a planner can keep or drop (one
together group, one fixed unit, the max_size bound, one balance column, ...).
:func:`rules_with` rebuilds :class:`~optimizer.problem.Rules` from any subset,
which is what :mod:`optimizer.diagnose` searches over, and
:func:`describe_rule` says each one with its units (name and id), columns and
numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import networkx as nx

from features.i18n import register, tr
from features.types import UnitId
from optimizer.problem import Problem, Rules

register(
    {
        "rule.count": {"vi": "số cụm = {k}", "en": "number of clusters = {k}"},
        "rule.count_range": {
            "vi": "số cụm từ {lo} đến {hi}",
            "en": "number of clusters between {lo} and {hi}",
        },
        "rule.min_size": {
            "vi": "mỗi cụm có ít nhất {m} đơn vị (min_size = {m}; có {n} đơn vị)",
            "en": "each cluster has at least {m} units (min_size = {m}; {n} units in all)",
        },
        "rule.max_size": {
            "vi": "mỗi cụm có nhiều nhất {m} đơn vị (max_size = {m}; có {n} đơn vị)",
            "en": "each cluster has at most {m} units (max_size = {m}; {n} units in all)",
        },
        "rule.balance": {
            "vi": "tổng '{column}' của mỗi cụm trong ±{pct} % của mức trung bình",
            "en": "each cluster's '{column}' total within ±{pct} % of the mean",
        },
        "rule.balance_band": {
            "vi": "tổng '{column}' của mỗi cụm trong khoảng {low}–{high} "
            "(±{pct} % của {total} / {k} cụm)",
            "en": "each cluster's '{column}' total between {low} and {high} "
            "(±{pct} % of {total} / {k} clusters)",
        },
        "rule.balance_largest": {
            "vi": "; đơn vị lớn nhất: {unit} = {value}",
            "en": "; largest unit: {unit} = {value}",
        },
        "rule.contiguous": {
            "vi": "mỗi cụm liền một khối trên đồ thị kề ({c} thành phần liên thông)",
            "en": "each cluster connected in the adjacency graph ({c} connected components)",
        },
        "rule.isolated": {
            "vi": "; đơn vị cô lập: {units}",
            "en": "; isolated units: {units}",
        },
        "rule.one_region": {
            "vi": "mỗi cụm chỉ thuộc một vùng ({m} vùng)",
            "en": "each cluster within one region ({m} regions)",
        },
        "rule.one_function": {
            "vi": "mỗi cụm chỉ một chức năng ({m} chức năng)",
            "en": "each cluster of one function ({m} functions)",
        },
        "rule.max_moves": {
            "vi": "tối đa {m} đơn vị đổi cụm so với hiện tại (max_moves = {m})",
            "en": "at most {m} units change cluster from the current grouping (max_moves = {m})",
        },
        "rule.together": {
            "vi": "nhóm 'cùng cụm' ({units}) có {n} đơn vị",
            "en": "'together' group ({units}) of {n} units",
        },
        "rule.apart": {
            "vi": "nhóm 'khác cụm' ({units}) có {n} đơn vị",
            "en": "'apart' group ({units}) of {n} units",
        },
        "rule.fixed": {
            "vi": "{unit} cố định vào cụm '{label}'",
            "en": "{unit} fixed to cluster '{label}'",
        },
        "rule.label.count": {"vi": "số cụm", "en": "the number of clusters"},
        "rule.label.balance": {
            "vi": "dung sai cân đối '{column}'",
            "en": "the '{column}' balance tolerance",
        },
        "rule.label.contiguous": {"vi": "quy tắc liền kề", "en": "contiguity"},
        "rule.label.one_region": {"vi": "quy tắc một vùng", "en": "one_region"},
        "rule.label.one_function": {
            "vi": "quy tắc một chức năng",
            "en": "one_function",
        },
    }
)

#: Kinds in the order the deletion filter tries to drop them: specific
#: planner rules first, so conflicts tend to keep the general bounds whose
#: relaxation is a number.
KINDS = (
    "fixed",
    "together",
    "apart",
    "max_moves",
    "one_function",
    "one_region",
    "contiguous",
    "balance",
    "min_size",
    "max_size",
    "count",
)


@dataclass(frozen=True, slots=True)
class RuleInstance:
    """One rule a planner can keep or drop.

    ``key`` is the unit id (``fixed``), column (``balance``) or group index
    as text (``together``/``apart``); empty for the others.
    """

    kind: str
    key: str = ""

    @property
    def ref(self) -> str:
        """Stable machine name: ``max_size``, ``balance[population]``, ``together[0]``."""
        return f"{self.kind}[{self.key}]" if self.key else self.kind

    def label(self) -> str:
        """Short planner name of the rule (for "change X from a to b")."""
        key = f"rule.label.{self.kind}"
        if self.kind == "balance":
            return tr(key, column=self.key)
        if self.kind in ("count", "contiguous", "one_region", "one_function"):
            return tr(key)
        return self.kind

    def value(self, problem: Problem) -> Any:
        """The rule's current setting (JSON-friendly)."""
        rules = problem.rules
        if self.kind == "fixed":
            return rules.fixed[self.key]
        if self.kind in ("together", "apart"):
            return list(getattr(rules, self.kind)[int(self.key)])
        if self.kind == "balance":
            return rules.balance[self.key]
        if self.kind == "count":
            return (
                rules.n_clusters
                if rules.n_clusters is not None
                else [
                    rules.min_count,
                    rules.max_count,
                ]
            )
        return getattr(rules, self.kind)


def list_rule_instances(problem: Problem) -> list[RuleInstance]:
    """Every rule instance the scenario sets, in :data:`KINDS` order."""
    rules = problem.rules
    out: list[RuleInstance] = []
    for kind in KINDS:
        if kind == "fixed":
            out += [RuleInstance("fixed", u) for u in rules.fixed]
        elif kind in ("together", "apart"):
            out += [
                RuleInstance(kind, str(i)) for i in range(len(getattr(rules, kind)))
            ]
        elif kind == "balance":
            out += [RuleInstance("balance", c) for c in rules.balance]
        elif kind == "count":
            out.append(RuleInstance("count"))
        elif kind in ("contiguous", "one_region", "one_function"):
            if getattr(rules, kind):
                out.append(RuleInstance(kind))
        elif getattr(rules, kind) is not None:
            out.append(RuleInstance(kind))
    return out


def rules_with(problem: Problem, active: Iterable[RuleInstance]) -> Rules:
    """The scenario's rules keeping only ``active`` instances.

    A dropped count becomes the range 1..n_units (any count); everything else
    dropped is unset. ``stability_weight`` (an objective term) is kept.
    """
    rules = problem.rules
    keep = set(active)
    kinds = {r.kind for r in keep}

    def kept(kind: str, key: str) -> bool:
        return RuleInstance(kind, key) in keep

    changes: dict[str, Any] = {
        "fixed": {u: lab for u, lab in rules.fixed.items() if kept("fixed", u)},
        "together": tuple(
            g for i, g in enumerate(rules.together) if kept("together", str(i))
        ),
        "apart": tuple(g for i, g in enumerate(rules.apart) if kept("apart", str(i))),
        "balance": {c: t for c, t in rules.balance.items() if kept("balance", c)},
    }
    for kind in ("contiguous", "one_region", "one_function"):
        changes[kind] = getattr(rules, kind) and kind in kinds
    for kind in ("min_size", "max_size", "max_moves"):
        changes[kind] = getattr(rules, kind) if kind in kinds else None
    if "count" not in kinds:
        changes.update(n_clusters=None, min_count=1, max_count=problem.profiles.n_units)
    return replace(rules, **changes)


def unit_text(unit: UnitId, problem: Problem, extra: Sequence[str] = ()) -> str:
    """A unit as planners see it: "Hà Nội (01)", optionally with its region/function."""
    frame = problem.profiles.frame
    name = str(frame.at[unit, "name"]) if unit in frame.index else ""
    details = []
    for column in extra:
        value = frame.at[unit, column] if column in frame.columns else None
        if isinstance(value, tuple):
            value = "; ".join(value)
        if not _missing(value) and str(value):
            details.append(str(value))
    if name and name != unit:
        return f"{name} ({', '.join([unit, *details])})"
    return f"{unit} ({', '.join(details)})" if details else unit


def describe_rule(
    instance: RuleInstance, problem: Problem, context: Sequence[RuleInstance] = ()
) -> str:
    """State one rule with its units, columns and numbers, in the current language.

    ``context`` is the rest of the conflict: units are annotated with their
    region (or function) when a one_region (one_function) rule is in it.
    """
    from optimizer.describe import format_number

    rules = problem.rules
    n_units = problem.profiles.n_units
    kinds = {r.kind for r in context}
    extra = [
        c
        for k, c in (("one_region", "region"), ("one_function", "functions"))
        if k in kinds
    ]
    kind = instance.kind
    if kind == "count":
        if rules.n_clusters is not None:
            return tr("rule.count", k=rules.n_clusters)
        return tr("rule.count_range", lo=rules.min_count, hi=rules.max_count)
    if kind in ("min_size", "max_size", "max_moves"):
        return tr(f"rule.{kind}", m=getattr(rules, kind), n=n_units)
    if kind == "balance":
        return _describe_balance(instance.key, problem, format_number)
    if kind == "contiguous":
        graph = problem.graph if problem.graph is not None else nx.Graph()
        graph = graph.copy()
        graph.add_nodes_from(problem.unit_ids)
        text = tr("rule.contiguous", c=nx.number_connected_components(graph))
        isolated = [u for u in problem.unit_ids if graph.degree(u) == 0]
        if isolated:
            shown = ", ".join(unit_text(u, problem) for u in isolated[:10])
            text += tr("rule.isolated", units=shown)
        return text
    if kind in ("one_region", "one_function"):
        column = "region" if kind == "one_region" else "functions"
        values: set[str] = set()
        for value in problem.profiles.frame[column].tolist():
            if isinstance(value, tuple):
                values.update(value)
            elif not _missing(value):
                values.add(str(value))
        return tr(f"rule.{kind}", m=len(values))
    if kind in ("together", "apart"):
        group = getattr(rules, kind)[int(instance.key)]
        units = ", ".join(unit_text(u, problem, extra) for u in group)
        return tr(f"rule.{kind}", units=units, n=len(group))
    if kind == "fixed":
        return tr(
            "rule.fixed",
            unit=unit_text(instance.key, problem, extra),
            label=rules.fixed[instance.key],
        )
    raise ValueError(f"unknown rule kind {kind!r}")


def _describe_balance(column: str, problem: Problem, fmt: Any) -> str:
    """Balance band with numbers when the count is fixed, plus the largest unit."""
    rules = problem.rules
    tol = float(rules.balance[column])
    pct = fmt(tol * 100, decimals=1)
    values = problem.profiles.frame[column]
    total = float(values.sum(skipna=True))
    if rules.n_clusters is None:
        text = tr("rule.balance", column=column, pct=pct)
    else:
        k = rules.n_clusters
        mean = total / k
        text = tr(
            "rule.balance_band",
            column=column,
            low=fmt(mean * (1 - tol), decimals=1),
            high=fmt(mean * (1 + tol), decimals=1),
            pct=pct,
            total=fmt(total, decimals=1),
            k=k,
        )
    if values.notna().any():
        largest = values.idxmax()
        text += tr(
            "rule.balance_largest",
            unit=unit_text(largest, problem),
            value=fmt(float(values[largest]), decimals=1),
        )
    return text


def _missing(value: object) -> bool:
    """None or NaN (an empty cell)."""
    return value is None or (isinstance(value, float) and value != value)  # noqa: PLR0124
