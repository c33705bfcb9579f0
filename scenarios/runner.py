"""The only orchestrator: one scenario in, one verified, measured result out.

``run_scenario`` goes load → validate → features → graph → solve → check →
metrics → checks → manifest and prints nothing, so the CLI, ``compare`` and
analysts' scripts all get the same result object. A plan that fails
:func:`optimizer.check.check_plan` is never returned: that would be a solver
bug, reported as an internal error rather than written into a decision.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping

from optimizer.check import check_plan, checks_summary
from optimizer.diagnose import explain_infeasible
from optimizer.errors import InfeasibleError, NoSolutionError
from optimizer.metrics import compute_metrics
from optimizer.problem import Problem
from optimizer.solve import ProgressEvent, solve
from scenarios.definition import ScenarioSpec, apply_overrides, build_problem
from scenarios.manifest import build_manifest
from scenarios.result import ScenarioResult

#: ``(problem, error) -> error`` that deepens an infeasibility (conflict, relaxations).
Diagnoser = Callable[[Problem, InfeasibleError], InfeasibleError]


class PlanCheckFailed(RuntimeError):
    """The solver returned a plan that breaks a rule: a bug, never user-fixable."""


def run_scenario(
    spec: ScenarioSpec,
    *,
    overrides: Mapping[str, object] | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
    stop: threading.Event | None = None,
    diagnose: Diagnoser | None = explain_infeasible,
) -> ScenarioResult:
    """Solve one scenario and account for the plan.

    Parameters
    ----------
    spec
        The scenario (from :func:`scenarios.definition.load_scenarios`).
    overrides
        ``[solver]`` values from the command line (``time_limit``, ``seed``,
        ``workers``); None values are ignored. They are recorded in the manifest.
    progress
        Called with each improving solution (objective, bound); may be called
        from the solver's thread.
    stop
        Set it to stop the search early; the best verified plan so far is
        returned with ``plan.interrupted``.
    diagnose
        Called when the solver proves infeasibility, to attach the minimal
        conflict and verified relaxations to the error (default
        :func:`optimizer.diagnose.explain_infeasible`, time-bounded; None skips it).

    Returns
    -------
    ScenarioResult
        With ``plan`` set, or ``plan=None`` and ``error`` saying why
        (infeasible, or no plan within the time limit).

    Raises
    ------
    InputError, ScenarioError
        Bad data or a scenario that does not fit it.
    PlanCheckFailed
        The solver's plan breaks a rule (a bug).
    """
    started = dt.datetime.now(dt.timezone.utc)
    spec = apply_overrides(spec, overrides)
    problem = build_problem(spec)
    try:
        plan = solve(problem, progress=progress, stop=stop)
    except InfeasibleError as err:
        error = diagnose(problem, err) if diagnose is not None else err
        manifest = build_manifest(spec, started_at=started)
        return ScenarioResult(
            spec=spec, problem=problem, plan=None, manifest=manifest, error=error
        )
    except NoSolutionError as err:
        manifest = build_manifest(spec, started_at=started)
        return ScenarioResult(
            spec=spec, problem=problem, plan=None, manifest=manifest, error=err
        )
    violations = check_plan(plan, problem)
    if violations:
        listed = "; ".join(f"{v.rule}: {v.message}" for v in violations[:5])
        raise PlanCheckFailed(f"solver returned a plan that breaks the rules: {listed}")
    return ScenarioResult(
        spec=spec,
        problem=problem,
        plan=plan,
        metrics=compute_metrics(plan, problem),
        checks=checks_summary(plan, problem),
        manifest=build_manifest(spec, started_at=started),
    )


def not_solved(spec: ScenarioSpec, reason: str, overrides: Mapping[str, object] | None = None) -> ScenarioResult:
    """The result of a scenario that was not solved (the run was stopped before it).

    The problem is still built, so the comparison can name the scenario and
    its rules; ``error`` is a :class:`scenarios.errors.ScenarioNotSolved`
    carrying ``reason``.
    """
    from scenarios.errors import ScenarioNotSolved

    started = dt.datetime.now(dt.timezone.utc)
    spec = apply_overrides(spec, overrides)
    return ScenarioResult(
        spec=spec,
        problem=build_problem(spec),
        plan=None,
        manifest=build_manifest(spec, started_at=started),
        error=ScenarioNotSolved(reason),
    )
