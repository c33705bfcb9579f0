"""Errors of scenario files."""

from __future__ import annotations

from features.errors import ClusterAssignError


class ScenarioError(ClusterAssignError):
    """A scenario file is malformed, names unknown columns, or sets impossible values."""

    exit_code = 1
