"""Verified relaxations: the smallest single change that makes a scenario feasible.

Why: "drop a rule" is rarely what a planner wants; "raise max_size from 8 to
9" or "widen the population tolerance from ±10 % to ±14 %" is. For each rule
of a conflict (:mod:`optimizer.diagnose`) this module searches the smallest
sufficient change — galloping up from the old value, then bisection, for size
bounds, max_moves and balance tolerances (on a 1 % grid), the nearest cluster
count — or checks that dropping the rule (a pair, a fixed unit, a boolean rule)
suffices. Every proposal is verified by a feasibility check of the *whole*
scenario with the change; a search that met a time-out says its value may not
be the smallest.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from features.i18n import register, tr
from optimizer.problem import Problem, Rules
from optimizer.rule_instances import (
    RuleInstance,
    describe_rule,
    list_rule_instances,
    rules_with,
)

register(
    {
        "diagnose.set": {
            "vi": "đổi {rule} từ {old} thành {new}",
            "en": "change {rule} from {old} to {new}",
        },
        "diagnose.drop": {"vi": "bỏ quy tắc: {text}", "en": "drop the rule: {text}"},
        "diagnose.off": {"vi": "tắt {rule}", "en": "turn off {rule}"},
        "diagnose.maybe_smaller": {
            "vi": "(một số lần kiểm tra hết thời gian; một thay đổi nhỏ hơn có thể cũng đủ)",
            "en": "(some checks timed out; a smaller change may also do)",
        },
        "diagnose.unbounded": {"vi": "không giới hạn", "en": "no limit"},
    }
)

#: Cluster counts tried on each side of the current count.
MAX_COUNT_STEPS = 6
#: Balance tolerances are searched on this grid (1 percentage point).
TOL_GRID = 100


class Verdict(enum.Enum):
    """Outcome of one feasibility check; UNKNOWN is a time-out, never a proof."""

    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Relaxation:
    """One verified change: ``rule`` goes from ``old`` to ``new`` (None = dropped).

    ``smallest`` is False when a check during the search for ``new`` timed
    out: the change works, but a smaller one may too.

    ``rules`` are the scenario's full rules with the change applied; solving
    the scenario with them was checked feasible.
    """

    rule: RuleInstance
    old: Any
    new: Any
    rules: Rules
    text: str
    smallest: bool = True

    def apply(self, problem: Problem) -> Problem:
        """The scenario with this change applied."""
        return replace(problem, rules=self.rules)

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form for ``plan.json`` and reports."""
        return {
            "rule": self.rule.ref,
            "from": self.old,
            "to": self.new,
            "text": self.text,
        }


def _smallest_feasible(
    lo: int, hi: int, feasible: Callable[[int], bool], *, hi_first: bool = True
) -> int | None:
    """Smallest v in (lo, hi] with ``feasible(v)``, assuming monotone; None if hi fails.

    After ``hi`` proves a change exists, the search gallops up from ``lo``
    (lo + 1, lo + 2, lo + 4, …) and bisects the last step: the answer is usually
    a small change, and a plain bisection of a wide range (a tolerance may go
    to ±124 900 % with 1 250 clusters) spends its checks far from it — when the
    diagnosis budget ran out there, the "smallest" tolerance it verified was
    ±119 % where ±63 % works. 2·log2(answer − lo) + 1 checks instead of
    log2(hi − lo) + 1. ``hi_first=False`` skips that first check, for ranges
    whose far end is itself hard to decide (it is checked last, if reached).
    """
    if hi_first and not feasible(hi):
        return None
    below, step = lo, 1
    while below + step < hi and not feasible(below + step):
        below += step
        step *= 2
    above = min(below + step, hi)
    if not hi_first and above == hi and not feasible(hi):
        return None
    while above - below > 1:
        mid = (below + above) // 2
        if feasible(mid):
            above = mid
        else:
            below = mid
    return above


def _numeric_relaxation(
    instance: RuleInstance, problem: Problem, check: Callable[[Rules], Verdict]
) -> tuple[Any, Any, Rules] | None:
    """Smallest verified change of one numeric bound, or None."""
    rules = problem.rules
    n_units = problem.profiles.n_units

    def ok(candidate: Rules) -> bool:
        return check(candidate) is Verdict.FEASIBLE

    if instance.kind in ("max_size", "max_moves"):
        old = getattr(rules, instance.kind)

        def make(v: int) -> Rules:
            if instance.kind == "max_size":
                return replace(rules, max_size=v)
            return replace(rules, max_moves=v)

        new = _smallest_feasible(old, n_units, lambda v: ok(make(v)))
        return None if new is None else (old, new, make(new))
    if instance.kind == "min_size":
        old = rules.min_size
        assert old is not None

        def make_min(v: int) -> Rules:
            return replace(rules, min_size=old - v)

        step = _smallest_feasible(0, old - 1, lambda v: ok(make_min(v))) if old > 1 else None
        return None if step is None else (old, old - step, make_min(step))
    if instance.kind == "balance":
        column = instance.key
        old_tol = float(rules.balance[column])
        hi = max(1, max(rules.counts) - 1) * TOL_GRID
        lo = max(int(old_tol * TOL_GRID + 1e-9), _largest_unit_floor(problem, column) - 1)

        def make_tol(t: int) -> Rules:
            return replace(rules, balance={**rules.balance, column: t / TOL_GRID})

        new = _smallest_feasible(lo, max(hi, lo + 1), lambda t: ok(make_tol(t)))
        return None if new is None else (old_tol, new / TOL_GRID, make_tol(new))
    if instance.kind == "count":
        return _count_relaxation(problem, ok)
    return None


def _largest_unit_floor(problem: Problem, column: str) -> int:
    """Grid tolerance below which no plan exists: the largest unit alone tops the band.

    A cluster holding the largest value ``v`` needs ``v ≤ mean·(1 + tol)`` with
    ``mean = total / count``; the smallest count allowed gives the smallest such
    tolerance. Starting the search there spares the checks that cannot succeed
    (each may cost a time-out) — the search stays verified above it.
    """
    values = np.asarray(problem.profiles.column_values(column), dtype=np.float64)
    values = values[np.isfinite(values)]
    total = float(values.sum()) if len(values) else 0.0
    if total <= 0.0 or values.max() <= 0.0:
        return 0
    need = float(values.max()) * min(problem.rules.counts) / total - 1.0
    return max(0, math.ceil(need * TOL_GRID - 1e-9))


def _largest_unit_count_ceiling(problem: Problem) -> int | None:
    """Largest cluster count at which every balanced column's largest unit fits its band.

    More clusters mean a smaller mean and a lower band top ``total·(1 + tol) / K``:
    past ``K = total·(1 + tol) / v`` the largest value ``v`` alone exceeds it (10 000
    units in 1 250 clusters at ±50 %: at most 1 175). None without such a column.
    """
    ceiling: int | None = None
    for column, tol in problem.rules.balance.items():
        values = np.asarray(problem.profiles.column_values(column), dtype=np.float64)
        values = values[np.isfinite(values)]
        if not len(values) or values.min() < 0.0 or values.max() <= 0.0:
            continue
        fits = math.floor(float(values.sum()) * (1.0 + float(tol)) / float(values.max()) + 1e-9)
        ceiling = fits if ceiling is None else min(ceiling, fits)
    return ceiling


def _count_relaxation(
    problem: Problem, ok: Callable[[Rules], bool]
) -> tuple[Any, Any, Rules] | None:
    """Nearest feasible cluster count (fixed count) or smallest widening of the range."""
    rules = problem.rules
    n_units = problem.profiles.n_units
    fixed = rules.n_clusters is not None
    old: Any = rules.n_clusters if fixed else f"{rules.min_count}–{rules.max_count}"
    lowest, highest = min(rules.counts), max(rules.counts)

    def fewer(k: int) -> tuple[Any, Any, Rules]:
        """The count (or the range's lower end) lowered to ``k``."""
        if fixed:
            return old, k, replace(rules, n_clusters=k)
        return old, f"{k}–{highest}", replace(rules, min_count=k)

    def more(k: int) -> tuple[Any, Any, Rules]:
        """The count (or the range's upper end) raised to ``k``."""
        if fixed:
            return old, k, replace(rules, n_clusters=k)
        return old, f"{lowest}–{k}", replace(rules, max_count=k)

    ceiling = _largest_unit_count_ceiling(problem)
    if ceiling is not None and lowest > ceiling:
        # the heaviest unit tops a band at every count from here up: gallop down
        # from the ceiling (its band is the tightest, often undecided in a check)
        floor = max(-(-n_units // rules.max_size) if rules.max_size else 1, 1)
        if ceiling < floor:
            return None
        step = _smallest_feasible(
            -1, ceiling - floor, lambda v: ok(fewer(ceiling - v)[2]), hi_first=False
        )
        return None if step is None else fewer(ceiling - step)
    for step in range(1, MAX_COUNT_STEPS + 1):
        candidates = ([fewer(lowest - step)] if lowest - step >= 1 else []) + (
            [more(highest + step)] if highest + step <= n_units else []
        )
        for candidate in candidates:
            if ok(candidate[2]):
                return candidate
    return None


_NUMERIC = {"count", "min_size", "max_size", "balance", "max_moves"}
_BOOLEAN = {"contiguous", "one_region", "one_function"}


def _tracking(
    check: Callable[[Rules], Verdict],
) -> tuple[Callable[[Rules], Verdict], list[Rules]]:
    """``check`` plus the list of rule variants it could not decide (time-outs)."""
    timed_out: list[Rules] = []

    def tracked(rules: Rules) -> Verdict:
        verdict = check(rules)
        if verdict is Verdict.UNKNOWN:
            timed_out.append(rules)
        return verdict

    return tracked, timed_out


def find_relaxations(
    conflict: Iterable[RuleInstance],
    problem: Problem,
    check: Callable[[Rules], Verdict],
    retry: Callable[[Rules], Verdict] | None = None,
) -> list[Relaxation]:
    """Verified single changes to rules of ``conflict`` that make ``problem`` feasible."""
    out: list[Relaxation] = []
    all_instances = list_rule_instances(problem)
    for instance in conflict:
        if instance.kind in _NUMERIC:
            tracked, timed_out = _tracking(check)
            found = _numeric_relaxation(instance, problem, tracked)
            if found is None:
                continue
            old, new, rules = found
            text = tr(
                "diagnose.set",
                rule=instance.label(),
                old=_show(old, instance),
                new=_show(new, instance),
            )
            if timed_out:
                text += " " + tr("diagnose.maybe_smaller")
            out.append(
                Relaxation(instance, old, new, rules, text, smallest=not timed_out)
            )
            continue
        rules = rules_with(problem, [r for r in all_instances if r != instance])
        verdict = check(rules)
        if verdict is Verdict.UNKNOWN and retry is not None:
            verdict = retry(rules)
        if verdict is Verdict.FEASIBLE:
            if instance.kind in _BOOLEAN:
                text = tr("diagnose.off", rule=instance.label())
            else:
                text = tr("diagnose.drop", text=describe_rule(instance, problem))
            out.append(Relaxation(instance, instance.value(problem), None, rules, text))
    return out


def _show(value: Any, instance: RuleInstance) -> str:
    if value is None:
        return tr("diagnose.unbounded")
    if instance.kind == "balance":
        return f"±{round(float(value) * 100)} %"
    return str(value)
