"""Rule data in index form, prepared once per problem for every model built from it.

The CP-SAT model works with unit *indices* (table order); planners' rules come
keyed by unit id and label. Translating once here keeps the model builders
free of preprocessing (CP-SAT primer: data "fully prepared for the
optimization process") and lets precheck, candidates and constraints agree
on, e.g., which together groups merge into one block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from optimizer.problem import Problem

#: Balance values are multiplied by 10**k so the largest has about this many digits.
BALANCE_DIGITS = 7


@dataclass(frozen=True, slots=True)
class BalanceColumn:
    """One balanced column, integer-scaled conservatively.

    ``floor_scaled[i] <= value[i] * scale <= ceil_scaled[i]``, so a cluster
    whose ``ceil`` sum is at most ``floor(hi * scale)`` and whose ``floor`` sum
    is at least ``ceil(lo * scale)`` satisfies the float rule that
    ``check_plan`` verifies.
    """

    name: str
    tol: float
    values: np.ndarray
    scale: float
    floor_scaled: np.ndarray
    ceil_scaled: np.ndarray
    mean: float | None = None  # set for a sub-problem: the whole table's mean

    def band(self, n_clusters: int) -> tuple[float, float]:
        """Float band ``mean*(1±tol)`` for ``n_clusters`` clusters (spec rule)."""
        mean = self.mean if self.mean is not None else float(self.values.sum()) / n_clusters
        a, b = mean * (1 - self.tol), mean * (1 + self.tol)
        return min(a, b), max(a, b)

    def band_scaled(self, n_clusters: int) -> tuple[int, int]:
        """Integer band: ``ceil(lo·scale)``, ``floor(hi·scale)``.

        A bound within 1e-9 (relative) of an integer is snapped to it first, so
        float noise in ``total / K`` cannot shut out an exact fit; the checker
        allows the same 1e-9 slack.
        """

        def snap(v: float) -> float:
            r = round(v)
            return float(r) if abs(v - r) <= 1e-9 * max(1.0, abs(v)) else v

        lo, hi = self.band(n_clusters)
        return math.ceil(snap(lo * self.scale)), math.floor(snap(hi * self.scale))


@dataclass(frozen=True, slots=True)
class ModelData:
    """Every rule of a :class:`Problem` with units as indices 0..n-1."""

    n: int
    regions: tuple[str | None, ...]
    functions: tuple[frozenset[str], ...]
    neighbors: tuple[tuple[int, ...], ...] | None
    blocks: tuple[tuple[int, ...], ...]  # together groups merged (transitively), size ≥ 2
    block_of: tuple[int, ...]  # block index per unit, -1 when alone
    apart: tuple[tuple[int, ...], ...]
    fixed: tuple[str | None, ...]  # label per unit
    fixed_labels: tuple[str, ...]  # distinct labels, first-seen order
    current: tuple[int, ...]  # current group index per unit, -1 when unknown
    group_names: tuple[str, ...]
    balance: tuple[BalanceColumn, ...]
    one_region: bool = False
    one_function: bool = False


def _scale_for(values: np.ndarray) -> float:
    top = float(np.max(np.abs(values))) if len(values) else 0.0
    if top == 0.0:
        return 1.0
    if np.all(values == np.rint(values)) and top < 10**12:
        return 1.0  # integer columns (population) stay exact
    return 10.0 ** (BALANCE_DIGITS - math.ceil(math.log10(top)))


def prepare(problem: Problem) -> ModelData:
    """Translate ``problem``'s rules into index form (no checking beyond that)."""
    frame = problem.profiles.frame
    ids = list(problem.unit_ids)
    pos = {u: i for i, u in enumerate(ids)}
    n = len(ids)
    rules = problem.rules

    regions = tuple(
        None if _missing(r) else str(r)
        for r in (frame["region"] if "region" in frame else [None] * n)
    )
    functions = tuple(
        frozenset(f) if isinstance(f, (tuple, list, frozenset, set)) else frozenset()
        for f in (frame["functions"] if "functions" in frame else [()] * n)
    )

    neighbors = None
    if problem.graph is not None:
        graph: nx.Graph = problem.graph
        neighbors = tuple(
            tuple(sorted(pos[v] for v in graph.neighbors(u) if v in pos and v != u))
            if u in graph
            else ()
            for u in ids
        )

    # together groups (and units sharing a fixed label) merge transitively
    uf = nx.utils.UnionFind(range(n))
    for group in rules.together:
        members = [pos[u] for u in group if u in pos]
        for a in members[1:]:
            uf.union(members[0], a)
    fixed: list[str | None] = [None] * n
    labels: list[str] = []
    by_label: dict[str, int] = {}
    for unit, label in rules.fixed.items():
        if unit not in pos:
            continue
        i = pos[unit]
        fixed[i] = str(label)
        if label not in by_label:
            by_label[label] = i
            labels.append(str(label))
        else:
            uf.union(by_label[label], i)
    sets = sorted((sorted(s) for s in uf.to_sets() if len(s) > 1), key=lambda s: s[0])
    block_of = [-1] * n
    for b, members in enumerate(sets):
        for i in members:
            block_of[i] = b

    apart = tuple(
        tuple(sorted({pos[u] for u in group if u in pos})) for group in rules.apart
    )

    current = [-1] * n
    group_names: list[str] = []
    if problem.profiles.has_current and "current_cluster" in frame:
        index: dict[str, int] = {}
        for i, g in enumerate(frame["current_cluster"]):
            if _missing(g):
                continue
            g = str(g)
            if g not in index:
                index[g] = len(group_names)
                group_names.append(g)
            current[i] = index[g]

    balance = []
    for col, tol in rules.balance.items():
        values = problem.profiles.column_values(col)
        scale = _scale_for(np.nan_to_num(values))
        balance.append(
            BalanceColumn(
                name=col,
                tol=float(tol),
                values=values,
                scale=scale,
                floor_scaled=np.floor(values * scale).astype(np.int64)
                if not np.isnan(values).any()
                else np.zeros(n, dtype=np.int64),
                ceil_scaled=np.ceil(values * scale).astype(np.int64)
                if not np.isnan(values).any()
                else np.zeros(n, dtype=np.int64),
            )
        )

    return ModelData(
        n=n,
        regions=regions,
        functions=functions,
        neighbors=neighbors,
        blocks=tuple(tuple(s) for s in sets),
        block_of=tuple(block_of),
        apart=apart,
        fixed=tuple(fixed),
        fixed_labels=tuple(labels),
        current=tuple(current),
        group_names=tuple(group_names),
        balance=tuple(balance),
        one_region=rules.one_region,
        one_function=rules.one_function,
    )


def _missing(value: object) -> bool:
    """True for None, NaN and pandas' NA (string dtype stores it for empty cells)."""
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))
