"""Errors of the optimizer: the rules cannot hold, or no plan was found in time."""

from __future__ import annotations

from features.errors import ClusterAssignError


class InfeasibleError(ClusterAssignError):
    """No plan can satisfy the rules (found before solving, or proven by CP-SAT).

    ``conflict`` names the rules that cannot hold together (planner words) and
    ``relaxations`` the verified changes that make the scenario feasible; both
    are empty until diagnosed (``optimizer.diagnose``).
    """

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        conflict: list[str] | None = None,
        relaxations: list[str] | None = None,
        rules: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.conflict: list[str] = list(conflict or [])
        self.relaxations: list[str] = list(relaxations or [])
        self.rules: list[str] = list(rules or [])


class NoSolutionError(ClusterAssignError):
    """The time limit ran out before any plan satisfying the rules was found."""

    exit_code = 3
