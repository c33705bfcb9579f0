"""Errors of scenario files."""

from __future__ import annotations

from features.errors import ClusterAssignError


class ScenarioError(ClusterAssignError):
    """A scenario file is malformed, names unknown columns, or sets impossible values."""

    exit_code = 1


class ScenarioNotSolved(ClusterAssignError):
    """A scenario of a comparison left unsolved because the planner stopped the run (Ctrl-C).

    Not a failure of the scenario: the comparison still lists it, with this
    reason, next to the scenarios solved before the stop.
    """

    exit_code = 0
