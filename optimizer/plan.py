"""A solved plan: the assignment plus an honest account of how good it is."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from features.types import ClusterId, UnitId


class SolveStatus(enum.Enum):
    OPTIMAL = "OPTIMAL"  # proven: no plan under these rules has a lower objective
    FEASIBLE = "FEASIBLE"  # verified plan; ``gap`` bounds how far from optimal


@dataclass(frozen=True, slots=True)
class Assignment:
    """Unit -> cluster index (0..n_clusters-1), in unit order."""

    labels: Mapping[UnitId, ClusterId]

    @property
    def n_clusters(self) -> int:
        return len(set(self.labels.values()))

    def parts(self) -> dict[ClusterId, tuple[UnitId, ...]]:
        """Members of each cluster (GerryChain's ``parts``), clusters in id order."""
        parts: dict[ClusterId, list[UnitId]] = {}
        for unit, cluster in self.labels.items():
            parts.setdefault(cluster, []).append(unit)
        return {c: tuple(parts[c]) for c in sorted(parts)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """Result of :func:`optimizer.solve.solve`.

    ``objective`` and ``bound`` are in the objective's own units (see README,
    "Objective"); ``gap = (objective - bound) / max(|objective|, tiny)``, 0 when
    proven optimal. ``cluster_labels[c]`` is the display label of cluster ``c``
    (matched to the current grouping or to ``fixed`` labels when known).
    ``interrupted`` is True when the search was stopped (Ctrl-C) before its
    time limit; the plan is still verified.
    """

    assignment: Assignment
    cluster_labels: tuple[str, ...]
    status: SolveStatus
    objective: float
    bound: float
    solve_seconds: float
    seed: int
    seed_assignment: Assignment | None = None
    interrupted: bool = False
    notes: tuple[str, ...] = ()
    details: Mapping[str, object] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        if self.status is SolveStatus.OPTIMAL:
            return 0.0
        denom = max(abs(self.objective), 1e-9)
        return max(0.0, min(1.0, (self.objective - self.bound) / denom))

    @property
    def n_clusters(self) -> int:
        return len(self.cluster_labels)
