"""Which (unit, medoid) pairs the model creates variables for.

A pair ``(i, m)`` means "unit *i* may join the cluster whose medoid is *m*".
Two kinds of candidate sets exist, and the solver must never confuse them:

* **exact** — every pair that the rules allow (:func:`full_candidates`). Pairs
  are removed only when a rule forbids them outright (different regions
  under one_region, no shared function under one_function, graph distance
  beyond what a connected cluster of ``max_size`` can span, different fixed
  labels, a together block that could not follow). A bound or an
  infeasibility proof from this model holds for the scenario.
* **restricted** — additionally pruned around a seed plan for scale
  (:func:`restricted_candidates`). Only a feasible plan from it is
  trustworthy; its bound holds for the restricted model alone and its
  infeasibility says nothing about the scenario (the caller widens it).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from optimizer.data import ModelData
from optimizer.smallest import smallest_columns


@dataclass(frozen=True, slots=True)
class Candidates:
    """Candidate medoids and, for each, the units that may join it."""

    medoids: tuple[int, ...]
    members: dict[int, tuple[int, ...]]  # medoid -> units (medoid included)
    exact: bool

    def options(self, n: int) -> list[list[int]]:
        """For each unit, the medoids it may join (ascending)."""
        opts: list[list[int]] = [[] for _ in range(n)]
        for m in self.medoids:
            for i in self.members[m]:
                opts[i].append(m)
        return opts

    @property
    def n_pairs(self) -> int:
        return sum(len(v) for v in self.members.values())


def _hops_within(neighbors: tuple[tuple[int, ...], ...], src: int, limit: int) -> set[int]:
    """Units at most ``limit`` edges from ``src`` in the adjacency graph."""
    seen = {src}
    queue = deque([(src, 0)])
    while queue:
        u, d = queue.popleft()
        if d == limit:
            continue
        for v in neighbors[u]:
            if v not in seen:
                seen.add(v)
                queue.append((v, d + 1))
    return seen


def rule_allows(data: ModelData, i: int, m: int) -> bool:
    """Whether the pairwise rules let unit ``i`` share a cluster with medoid ``m``."""
    if i == m:
        return True
    ri, rm = data.regions[i], data.regions[m]
    if data.one_region and ri is not None and rm is not None and ri != rm:
        return False
    if data.one_function and not (data.functions[i] & data.functions[m]):
        return False
    fi, fm = data.fixed[i], data.fixed[m]
    if fi is not None and fm is not None and fi != fm:
        return False
    for group in data.apart:
        if i in group and m in group:
            return False
    return True


def _reach_limit(data: ModelData, n_clusters: int, max_size: int | None) -> int:
    """Largest graph distance between two members of one connected cluster."""
    biggest = max_size if max_size is not None else data.n - n_clusters + 1
    return max(biggest - 1, 0)


def full_candidates(
    data: ModelData, n_clusters: int, *, max_size: int | None, contiguous: bool
) -> Candidates:
    """Every pair the rules allow: an exact model (bounds and proofs hold)."""
    n = data.n
    reach: list[set[int]] | None = None
    if contiguous and data.neighbors is not None:
        limit = _reach_limit(data, n_clusters, max_size)
        reach = [_hops_within(data.neighbors, m, limit) for m in range(n)]
    allowed = np.zeros((n, n), dtype=bool)
    for m in range(n):
        for i in range(n):
            allowed[i, m] = rule_allows(data, i, m) and (reach is None or i in reach[m])
    members = {m: tuple(np.flatnonzero(allowed[:, m]).tolist()) for m in range(n)}
    members = _close_blocks(data, members)
    medoids = tuple(m for m in range(n) if m in members[m])
    return Candidates(medoids=medoids, members={m: members[m] for m in medoids}, exact=True)


def _close_blocks(data: ModelData, members: dict[int, tuple[int, ...]]) -> dict[int, tuple[int, ...]]:
    """Drop a unit from a medoid's list unless its whole together block can follow."""
    out = {}
    for m, units in members.items():
        present = set(units)
        keep = []
        for i in units:
            b = data.block_of[i]
            if b >= 0 and not all(j in present for j in data.blocks[b]):
                continue
            keep.append(i)
        out[m] = tuple(keep)
    return out


def restricted_candidates(
    data: ModelData,
    dist_to: np.ndarray | None,
    medoids: list[int],
    n_nearest: int,
    *,
    always: dict[int, int] | None = None,
    nearest_of: np.ndarray | None = None,
) -> Candidates:
    """Each unit may join its ``n_nearest`` candidate medoids (plus ``always``).

    ``dist_to[i, k]`` is the distance of unit ``i`` to ``medoids[k]``, or
    ``nearest_of[i]`` already lists positions in ``medoids``, nearest first
    (large tables, where the n × medoids matrix would not fit);
    ``always[i]`` is a medoid unit ``i`` keeps whatever its distance (its
    cluster in the warm-start plan, so the hint stays feasible).
    """
    n = data.n
    members: dict[int, list[int]] = {m: [] for m in medoids}
    k_near = min(n_nearest, len(medoids))
    if nearest_of is not None:
        order = nearest_of[:, :k_near]
    else:
        order = smallest_columns(dist_to, k_near)
    for i in range(n):
        chosen = {medoids[k] for k in order[i]}
        if always is not None and i in always:
            chosen.add(always[i])
        for m in chosen:
            if rule_allows(data, i, m):
                members[m].append(i)
    for m in medoids:
        if m not in members[m]:
            members[m].append(m)
    closed = _close_blocks(data, {m: tuple(sorted(v)) for m, v in members.items()})
    # a medoid whose own together block cannot follow it cannot be a medoid
    kept = tuple(sorted(m for m in medoids if m in closed[m]))
    return Candidates(medoids=kept, members={m: closed[m] for m in kept}, exact=False)
