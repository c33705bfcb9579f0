"""Why a scenario is infeasible: a minimal conflict and verified relaxations.

A planner told "infeasible" needs to know *which* of their rules cannot hold
together and *what* to change. This module splits the scenario's rules into
rule instances (each together/apart group, each fixed unit, each size bound,
each balance column, contiguity, one_region, one_function, max_moves, the
cluster count) and runs a deletion filter: drop an instance; if the rest is
still proven infeasible it was not needed, otherwise keep it. What remains is a
*minimal* conflict — dropping any one of its rules makes it feasible. The
filter only asks a feasibility oracle (by default :func:`optimizer.solve.solve`
with a short time limit), so it works with any model; a time-out is
*unknown*, never counted as proof, and the result then says it may not be
minimal.

Relaxations (:mod:`optimizer.relax`) are proposed only for rules in the conflict (changing anything
else leaves the conflict infeasible) and each is verified by re-solving the
*whole* scenario with the change: the smallest sufficient numeric bound
(galloping up from the old value, then bisection; balance tolerances on a 1 %
grid), the nearest feasible cluster count, or dropping one boolean/pair/fixed
rule.

Budget: every check gets ``check_time_limit_s`` (default 5 s; a time-out that
decides a rule of the conflict or a "drop this rule" relaxation is retried
once with 3× that) and the whole diagnosis ``budget_s`` (default 60 s); after
that remaining checks are *unknown*. Checks run with one worker and the scenario's seed and are cached,
so a diagnosis is deterministic unless a check times out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from features.errors import ClusterAssignError
from features.i18n import register, tr
from optimizer.errors import InfeasibleError, NoSolutionError
from optimizer.problem import Problem, Rules
from optimizer.relax import Relaxation, Verdict, find_relaxations
from optimizer.rule_instances import (
    RuleInstance,
    describe_rule,
    list_rule_instances,
    rules_with,
)

__all__ = [
    "BUDGET_S",
    "CHECK_TIME_LIMIT_S",
    "DiagnosedInfeasibleError",
    "Diagnosis",
    "Oracle",
    "Relaxation",
    "Verdict",
    "diagnose",
    "diagnose_problem",
    "explain_infeasible",
    "find_conflict",
    "solver_oracle",
]

register(
    {
        "diagnose.header": {
            "vi": "Kịch bản '{name}' không khả thi: các quy tắc sau không thể cùng thỏa mãn",
            "en": "Scenario '{name}' is infeasible: these rules cannot all hold together",
        },
        "diagnose.not_minimal": {
            "vi": "(có thể chưa tối thiểu: chưa quyết định được {n} quy tắc vì hết thời gian)",
            "en": "(may not be minimal: {n} rule(s) undecided after time-outs)",
        },
        "diagnose.relax_header": {
            "vi": "Mỗi thay đổi sau (đã kiểm chứng bằng cách giải lại) làm kịch bản khả thi:",
            "en": "Each change below (verified by re-solving) makes the scenario feasible:",
        },
        "diagnose.no_relaxation": {
            "vi": "Không tìm được một thay đổi đơn lẻ nào làm kịch bản khả thi trong {s} giây.",
            "en": "No single change found that makes the scenario feasible within {s} s.",
        },
        "diagnose.no_single_change": {
            "vi": "Không có thay đổi đơn lẻ nào của các quy tắc trên làm kịch bản khả thi (đã kiểm "
                  "chứng bằng {n} lần giải lại); cần nới ít nhất hai quy tắc cùng lúc.",
            "en": "No single change to the rules above makes the scenario feasible ({n} re-solves "
                  "showed it); at least two rules must be relaxed together.",
        },
        "diagnose.no_relaxation_undecided": {
            "vi": "Không tìm được một thay đổi đơn lẻ nào làm kịch bản khả thi: {u} lần kiểm tra (mỗi "
                  "lần tối đa {t:g} giây) hết thời gian trước khi có kết luận, nên một thay đổi đơn lẻ "
                  "vẫn có thể đủ.",
            "en": "No single change found that makes the scenario feasible: {u} checks (at most "
                  "{t:g} s each) ran out of time undecided, so a single change may still do.",
        },
    }
)

#: Default per-check and whole-diagnosis time limits (seconds).
CHECK_TIME_LIMIT_S = 5.0
BUDGET_S = 60.0
#: After a failed solve the diagnosis gets this many times the scenario's time
#: limit, within [MIN_BUDGET_S, BUDGET_S]: a planner who asked for 8 s waited
#: 66 s for an answer whose first line precheck had found at once.
BUDGET_PER_LIMIT = 2.0
MIN_BUDGET_S = 10.0
#: A check that timed out may be retried once with this many times the limit.
RETRY_FACTOR = 3.0


#: A feasibility oracle: (problem, time limit in seconds) -> verdict.
Oracle = Callable[[Problem, float], Verdict]


def solver_oracle(problem: Problem, time_limit_s: float) -> Verdict:
    """Feasibility by :func:`optimizer.solve.solve`: a plan, a proof, or a time-out.

    Runs with one worker (deterministic) and stops at the first plan: only
    feasibility matters here, not its quality.
    """
    import threading

    from optimizer.solve import solve  # late: solve is heavier than diagnose

    settings = replace(problem.settings, time_limit_s=time_limit_s, num_workers=1)
    stop = threading.Event()
    try:
        solve(
            replace(problem, settings=settings),
            progress=lambda _event: stop.set(),
            stop=stop,
        )
    except InfeasibleError:
        return Verdict.INFEASIBLE
    except NoSolutionError:
        return Verdict.UNKNOWN
    except ClusterAssignError:  # a variant the solver refuses is no proof either way
        return Verdict.UNKNOWN
    return Verdict.FEASIBLE


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """Result of :func:`diagnose_problem`; ``minimal`` is False if a check timed out."""

    conflict: tuple[RuleInstance, ...]
    conflict_text: tuple[str, ...]
    relaxations: tuple[Relaxation, ...]
    minimal: bool
    n_checks: int
    seconds: float
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "conflict": list(self.conflict_text),
            "conflict_rules": [r.ref for r in self.conflict],
            "minimal": self.minimal,
            "relaxations": [r.to_json() for r in self.relaxations],
        }


class DiagnosedInfeasibleError(InfeasibleError):
    """An :class:`InfeasibleError` that also carries the structured :class:`Diagnosis`."""

    def __init__(self, diagnosis: Diagnosis, *, reason: str = "") -> None:
        message = diagnosis.message
        if reason and reason not in message:
            message = f"{reason}\n{message}"
        super().__init__(
            message,
            conflict=list(diagnosis.conflict_text),
            relaxations=[r.text for r in diagnosis.relaxations],
            rules=[r.ref for r in diagnosis.conflict],
        )
        self.diagnosis = diagnosis


@dataclass
class _Checker:
    """Cached, budgeted feasibility checks of rule variants of one problem."""

    problem: Problem
    oracle: Oracle
    check_time_limit_s: float
    deadline: float
    cache: dict[str, Verdict] = field(default_factory=dict)
    n_checks: int = 0
    n_unknown: int = 0

    def __call__(self, rules: Rules) -> Verdict:
        return self._run(rules, self.check_time_limit_s)

    def patient(self, rules: Rules) -> Verdict:
        """Check again with :data:`RETRY_FACTOR` × the time limit if it timed out."""
        return self._run(rules, RETRY_FACTOR * self.check_time_limit_s, retry=True)

    def _run(self, rules: Rules, limit: float, retry: bool = False) -> Verdict:
        key = repr(_canonical(rules))
        cached = self.cache.get(key)
        if cached is not None and not (retry and cached is Verdict.UNKNOWN):
            return cached
        remaining = self.deadline - time.monotonic()
        if remaining <= 0.05:
            verdict = Verdict.UNKNOWN
        else:
            self.n_checks += 1
            verdict = self.oracle(
                replace(self.problem, rules=rules), min(limit, remaining)
            )
        if verdict is Verdict.UNKNOWN:
            self.n_unknown += 1
        self.cache[key] = verdict
        return verdict


def _canonical(rules: Rules) -> tuple[Any, ...]:
    """A hashable, order-stable view of ``rules`` for the cache."""
    items = []
    for name in Rules.__dataclass_fields__:
        value = getattr(rules, name)
        if isinstance(value, dict) or hasattr(value, "items"):
            value = tuple(sorted(value.items()))
        items.append((name, value))
    return tuple(items)


def find_conflict(
    instances: list[RuleInstance],
    problem: Problem,
    check: Callable[[Rules], Verdict],
    retry: Callable[[Rules], Verdict] | None = None,
) -> tuple[list[RuleInstance], list[RuleInstance]]:
    """Deletion filter: a minimal infeasible subset of ``instances``.

    Each kind of rule (all fixed units, all together groups, ...) is first
    dropped as a whole, which removes irrelevant rule families in one check;
    the instances of kinds that matter are then dropped one at a time. An
    instance whose removal could not be decided (time-out) is kept and, when
    ``retry`` is given, tried again with it at the end. Returns the conflict
    and the instances still kept only for lack of a decision (empty: the
    conflict is proven minimal).
    """
    active = list(instances)
    uncertain: list[RuleInstance] = []
    kinds = list(dict.fromkeys(r.kind for r in instances))
    for kind in kinds:
        trial = [r for r in active if r.kind != kind]
        if len(trial) == len(active):
            continue
        verdict = check(rules_with(problem, trial))
        if verdict is Verdict.INFEASIBLE:
            active = trial
        elif verdict is Verdict.UNKNOWN and len(active) - len(trial) == 1:
            uncertain += [r for r in active if r.kind == kind]
    active, undecided = _drop_one_by_one(
        list(active), active, problem, check, shared_kinds_only=True
    )
    uncertain += undecided
    if retry is not None:
        active, uncertain = _drop_one_by_one(uncertain, active, problem, retry)
    return active, [r for r in uncertain if r in active]


def _drop_one_by_one(
    candidates: list[RuleInstance],
    active: list[RuleInstance],
    problem: Problem,
    check: Callable[[Rules], Verdict],
    *,
    shared_kinds_only: bool = False,
) -> tuple[list[RuleInstance], list[RuleInstance]]:
    """Drop each candidate whose removal keeps ``active`` infeasible.

    With ``shared_kinds_only``, the last active instance of its kind is
    skipped: it was already tested alone when its whole kind was dropped.
    Returns the remaining rules and the candidates ``check`` could not
    decide (time-out), which stay in.
    """
    undecided: list[RuleInstance] = []
    for instance in candidates:
        if instance not in active:
            continue
        if shared_kinds_only and sum(r.kind == instance.kind for r in active) <= 1:
            continue
        trial = [r for r in active if r != instance]
        verdict = check(rules_with(problem, trial))
        if verdict is Verdict.INFEASIBLE:
            active = trial
        elif verdict is Verdict.UNKNOWN:
            undecided.append(instance)
    return active, undecided


def diagnose_problem(
    problem: Problem,
    *,
    check_time_limit_s: float = CHECK_TIME_LIMIT_S,
    budget_s: float = BUDGET_S,
    oracle: Oracle = solver_oracle,
    known_infeasible: bool = False,
) -> Diagnosis:
    """Minimal conflict and verified relaxations of an infeasible ``problem``.

    Parameters
    ----------
    problem
        A scenario already found infeasible (by ``precheck`` or ``solve``).
    check_time_limit_s
        Time limit of each feasibility check.
    budget_s
        Time limit of the whole diagnosis; checks beyond it count as unknown.
    oracle
        Feasibility check; the default re-solves with :func:`optimizer.solve.solve`.
    known_infeasible
        Skip re-checking the whole scenario (the caller holds a proof).

    Raises
    ------
    ValueError
        If ``problem`` is found feasible: there is nothing to diagnose.
    """
    start = time.monotonic()
    check = _Checker(problem, oracle, check_time_limit_s, start + budget_s)
    if known_infeasible:
        check.cache[repr(_canonical(problem.rules))] = Verdict.INFEASIBLE
    elif check(problem.rules) is Verdict.FEASIBLE:
        raise ValueError(f"scenario {problem.name!r} is feasible; nothing to diagnose")
    instances = list_rule_instances(problem)
    conflict, uncertain = find_conflict(instances, problem, check, check.patient)
    proven = not uncertain
    relaxations = find_relaxations(conflict, problem, check, check.patient)
    conflict_text = tuple(describe_rule(r, problem, context=conflict) for r in conflict)
    lines = [tr("diagnose.header", name=problem.name) + ":"]
    lines += [f"  - {text}" for text in conflict_text]
    if not proven:
        lines.append("  " + tr("diagnose.not_minimal", n=len(uncertain)))
    if relaxations:
        lines.append(tr("diagnose.relax_header"))
        lines += [f"  - {r.text}" for r in relaxations]
    elif not (undecided := sum(v is Verdict.UNKNOWN for v in check.cache.values())):
        # every check decided: the conflict is minimal and no single change of it helps
        lines.append(tr("diagnose.no_single_change", n=check.n_checks))
    elif time.monotonic() < check.deadline:
        # the budget was not what stopped it (3 300 units, contiguity and max_moves: one
        # 5-s check of a ±41 100 % band timed out, and "within 60 s" came after 13 s)
        lines.append(tr("diagnose.no_relaxation_undecided", u=undecided, t=check_time_limit_s))
    else:
        lines.append(tr("diagnose.no_relaxation", s=round(budget_s)))
    return Diagnosis(
        conflict=tuple(conflict),
        conflict_text=conflict_text,
        relaxations=tuple(relaxations),
        minimal=proven,
        n_checks=check.n_checks,
        seconds=time.monotonic() - start,
        message="\n".join(lines),
    )


def diagnose(
    problem: Problem,
    *,
    check_time_limit_s: float = CHECK_TIME_LIMIT_S,
    budget_s: float = BUDGET_S,
    oracle: Oracle = solver_oracle,
) -> InfeasibleError:
    """The error to raise for an infeasible ``problem``, conflict and relaxations filled.

    The returned :class:`DiagnosedInfeasibleError` also carries ``.diagnosis``
    (structured, with ``to_json()`` for ``plan.json``).
    """
    return DiagnosedInfeasibleError(
        diagnose_problem(
            problem,
            check_time_limit_s=check_time_limit_s,
            budget_s=budget_s,
            oracle=oracle,
        )
    )


def diagnosis_budget(time_limit_s: float) -> float:
    """Seconds the diagnosis may take after a solve with ``time_limit_s``.

    Twice the time limit, at least :data:`MIN_BUDGET_S` (a few checks must
    fit) and at most :data:`BUDGET_S`.
    """
    return min(BUDGET_S, max(MIN_BUDGET_S, BUDGET_PER_LIMIT * float(time_limit_s)))


def explain_infeasible(
    problem: Problem, error: InfeasibleError | None = None
) -> InfeasibleError:
    """Deepen an infeasibility for the runner (``run_scenario(..., diagnose=...)``).

    Returns a :class:`DiagnosedInfeasibleError` whose message keeps the
    original reason (e.g. precheck numbers) followed by the conflict and the
    verified relaxations. If the short checks cannot confirm infeasibility
    (the original proof took longer than :data:`CHECK_TIME_LIMIT_S`, so the
    scenario looks feasible or unknown here), the original error is returned
    unchanged rather than a guess.
    """
    try:
        diagnosis = diagnose_problem(
            problem,
            known_infeasible=error is not None,
            budget_s=diagnosis_budget(problem.settings.time_limit_s),
        )
    except ValueError:
        return error if error is not None else InfeasibleError(problem.name)
    return DiagnosedInfeasibleError(
        diagnosis, reason=str(error) if error is not None else ""
    )
