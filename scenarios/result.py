"""The outcome of running one scenario, as every writer and report sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from features.errors import ClusterAssignError
from optimizer.plan import Plan
from optimizer.problem import Problem

if TYPE_CHECKING:  # pragma: no cover
    from scenarios.definition import ScenarioSpec


@dataclass(frozen=True)
class ScenarioResult:
    """``plan`` is None exactly when ``error`` says why (infeasible, no plan in time).

    ``metrics`` come from ``optimizer.metrics.compute_metrics``; ``checks``
    maps each rule of the scenario to ``"ok"`` (a plan is only kept when every
    check passes); ``manifest`` is the audit record (input hashes, scenario,
    seed, versions) written into ``plan.json``.
    """

    spec: ScenarioSpec
    problem: Problem
    plan: Plan | None
    metrics: dict[str, float] = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    error: ClusterAssignError | None = None

    @property
    def name(self) -> str:
        return self.problem.name

    @property
    def ok(self) -> bool:
        return self.plan is not None
