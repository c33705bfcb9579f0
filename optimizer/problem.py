"""What the optimizer is asked: prepared data plus the planner's rules.

The scenario layer turns a scenario file into a :class:`Problem`; the
optimizer never reads files. Data preparation (features, graph) happens before
a Problem exists, so models receive data that needs no further preprocessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import networkx as nx

from features.types import FeatureMatrix, Profiles, UnitId


@dataclass(frozen=True, slots=True, kw_only=True)
class Rules:
    """The planner's hard rules (spec ``[clusters]``, ``[balance]``, ``[rules]``).

    Exactly one of ``n_clusters`` or the range ``min_count``..``max_count`` is
    set. ``balance`` maps a scale column to its tolerance: every cluster total
    must lie within ``mean * (1 ± tol)`` where ``mean`` is the column total
    divided by the number of clusters. ``fixed`` maps a unit to a cluster
    *label*: units fixed to the same label share a cluster that carries it.
    ``stability_weight`` (≥ 0) adds a cost per unit moved away from its
    ``current_cluster`` to the objective.
    """

    n_clusters: int | None = None
    min_count: int | None = None
    max_count: int | None = None
    min_size: int | None = None
    max_size: int | None = None
    balance: Mapping[str, float] = field(default_factory=dict)
    contiguous: bool = False
    one_region: bool = False
    one_function: bool = False
    max_moves: int | None = None
    together: tuple[tuple[UnitId, ...], ...] = ()
    apart: tuple[tuple[UnitId, ...], ...] = ()
    fixed: Mapping[UnitId, str] = field(default_factory=dict)
    stability_weight: float = 0.0

    def __post_init__(self) -> None:
        if (self.n_clusters is None) == (self.min_count is None or self.max_count is None):
            raise ValueError("set n_clusters, or both min_count and max_count")

    @property
    def counts(self) -> range:
        """Every cluster count the rules allow."""
        if self.n_clusters is not None:
            return range(self.n_clusters, self.n_clusters + 1)
        assert self.min_count is not None and self.max_count is not None
        return range(self.min_count, self.max_count + 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class SolverSettings:
    """How hard and how reproducibly to search.

    ``num_workers=1`` makes CP-SAT deterministic for a given ``seed``; more
    workers are faster but may return a different (equally verified) plan.
    """

    time_limit_s: float = 30.0
    seed: int = 0
    num_workers: int = 1
    log_search_progress: bool = False

    def __post_init__(self) -> None:
        if not self.time_limit_s > 0:
            raise ValueError("time_limit_s must be > 0")
        if self.num_workers < 1:
            raise ValueError("num_workers must be >= 1")


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """Everything needed to solve one scenario, already validated."""

    name: str
    profiles: Profiles
    features: FeatureMatrix
    rules: Rules
    settings: SolverSettings = field(default_factory=SolverSettings)
    graph: nx.Graph | None = None  # adjacency; nodes are all unit ids

    @property
    def unit_ids(self) -> tuple[UnitId, ...]:
        return self.profiles.unit_ids
