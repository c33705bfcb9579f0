"""The planner's rules as CP-SAT constraints, one function per rule family.

Every function takes the model, the pair variables ``x[i, m]`` (unit *i*
joins the cluster whose medoid is *m*; ``x[m, m]`` says *m* is a medoid, i.e.
its cluster is open), the :class:`~optimizer.candidates.Candidates` that say
which pairs exist, and the index-form rules (:class:`~optimizer.data.ModelData`).
A missing pair is a variable fixed to 0. ``optimizer.check.check_plan`` is the
solver-free statement of the same rules; tests hold the two to agreement.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from itertools import pairwise

from ortools.sat.python import cp_model

from optimizer.candidates import Candidates, rule_allows
from optimizer.data import ModelData

X = dict[tuple[int, int], cp_model.IntVar]


def _column(x: X, cands: Candidates, m: int) -> list[tuple[int, cp_model.IntVar]]:
    return [(i, x[i, m]) for i in cands.members[m]]


def add_exact_partition(model: cp_model.CpModel, x: X, cands: Candidates, n: int) -> None:
    """Every unit belongs to exactly one cluster.

    Also links each membership to its medoid (``x[i, m] <= x[m, m]``): a unit
    can only join an open cluster. The link is implied by the size rule, but
    stated per pair it gives the tight p-median LP bound.
    """
    options: list[list[cp_model.IntVar]] = [[] for _ in range(n)]
    for m in cands.medoids:
        for i, var in _column(x, cands, m):
            options[i].append(var)
            if i != m:
                model.add_implication(var, x[m, m])
    for i in range(n):
        model.add_exactly_one(options[i])


def add_cluster_count(model: cp_model.CpModel, x: X, cands: Candidates, n_clusters: int) -> None:
    """Exactly ``n_clusters`` clusters are formed (exactly that many medoids)."""
    model.add(sum(x[m, m] for m in cands.medoids) == n_clusters)


def add_size_bounds(
    model: cp_model.CpModel,
    x: X,
    cands: Candidates,
    min_size: int | None,
    max_size: int | None,
) -> None:
    """Every cluster has between ``min_size`` and ``max_size`` members.

    Without a rule the bounds are still 1..n (a medoid counts itself), which
    keeps the linear relaxation honest.
    """
    for m in cands.medoids:
        size = sum(var for _, var in _column(x, cands, m))
        lo = max(min_size or 1, 1)
        model.add(size >= lo * x[m, m])
        if max_size is not None:
            model.add(size <= max_size * x[m, m])


def add_balance(
    model: cp_model.CpModel, x: X, cands: Candidates, data: ModelData, n_clusters: int
) -> None:
    """Every cluster's total of each balanced column lies within mean·(1 ± tol).

    ``mean`` is the column total divided by the number of clusters. Values are
    integer-scaled once (:class:`~optimizer.data.BalanceColumn`): the upper
    limit uses values rounded up and the lower limit values rounded down, so
    an integer-feasible cluster always passes the float check.
    """
    for col in data.balance:
        lo, hi = col.band_scaled(n_clusters)
        for m in cands.medoids:
            members = _column(x, cands, m)
            upper = sum(int(col.ceil_scaled[i]) * var for i, var in members)
            lower = sum(int(col.floor_scaled[i]) * var for i, var in members)
            model.add(upper <= hi * x[m, m])
            model.add(lower >= lo * x[m, m])


def forbid_disallowed_pairs(
    model: cp_model.CpModel, x: X, cands: Candidates, data: ModelData
) -> int:
    """Pairs that a pairwise rule forbids are fixed to 0 (defensive; returns count).

    Candidate generation already leaves such pairs out; this keeps any
    hand-made candidate set honest.
    """
    count = 0
    for m in cands.medoids:
        for i, var in _column(x, cands, m):
            if not rule_allows(data, i, m):
                model.add(var == 0)
                count += 1
    return count


def add_one_region(model: cp_model.CpModel, x: X, cands: Candidates, data: ModelData) -> None:
    """No cluster spans two regions (units without a region fit anywhere).

    A medoid with a region fixes its cluster's region, so pairs across regions
    are not created at all (candidates). A medoid without a region picks at
    most one region ``r[m, R]`` that its regioned members must carry.
    """
    if not data.one_region:
        return
    forbid_disallowed_pairs(model, x, cands, data)
    for m in cands.medoids:
        if data.regions[m] is not None:
            continue
        found = sorted({reg for i in cands.members[m] if (reg := data.regions[i]) is not None})
        if len(found) < 2:
            continue
        r = {reg: model.new_bool_var(f"r[{m},{reg}]") for reg in found}
        model.add_at_most_one(r.values())
        for i, var in _column(x, cands, m):
            region = data.regions[i]
            if region is not None:
                model.add_implication(var, r[region])


def add_one_function(model: cp_model.CpModel, x: X, cands: Candidates, data: ModelData) -> None:
    """Block mode: all members of a cluster share at least one function.

    A common function is necessarily one of the medoid's; ``z[m, f]`` picks
    it, and a member must carry the picked function.
    """
    if not data.one_function:
        return
    for m in cands.medoids:
        funcs = sorted(data.functions[m])
        if not funcs:
            for i, var in _column(x, cands, m):
                if i != m:
                    model.add(var == 0)
            continue
        if len(funcs) == 1:
            continue  # candidates already require sharing the medoid's only function
        z = {f: model.new_bool_var(f"z[{m},{f}]") for f in funcs}
        model.add(sum(z.values()) == x[m, m])
        for i, var in _column(x, cands, m):
            shared = [z[f] for f in funcs if f in data.functions[i]]
            if len(shared) < len(funcs):
                model.add(var <= sum(shared))


def add_together(model: cp_model.CpModel, x: X, cands: Candidates, data: ModelData) -> None:
    """Units of a together group (or sharing a fixed label) are in one cluster."""
    for block in data.blocks:
        for m in cands.medoids:
            members = set(cands.members[m])
            present = [i for i in block if i in members]
            for i in block:
                if i not in members and present:
                    # the block cannot follow into m: none of it may join
                    for j in present:
                        model.add(x[j, m] == 0)
                    present = []
                    break
            for a, b in pairwise(present):
                model.add(x[a, m] == x[b, m])


def add_apart(model: cp_model.CpModel, x: X, cands: Candidates, data: ModelData) -> None:
    """No two units of an apart group share a cluster."""
    for group in data.apart:
        for m in cands.medoids:
            members = set(cands.members[m])
            vars_ = [x[i, m] for i in group if i in members]
            if len(vars_) > 1:
                model.add_at_most_one(vars_)


def fixed_representatives(data: ModelData) -> dict[str, int]:
    """First unit (table order) fixed to each label."""
    reps: dict[str, int] = {}
    for i, label in enumerate(data.fixed):
        if label is not None and label not in reps:
            reps[label] = i
    return reps


def add_fixed(model: cp_model.CpModel, x: X, cands: Candidates, data: ModelData) -> None:
    """Units fixed to different labels are in different clusters.

    Units fixed to the *same* label are one together block (``add_together``);
    the label itself is attached to the cluster after solving
    (:mod:`optimizer.labels`).
    """
    reps = list(fixed_representatives(data).values())
    if len(reps) < 2:
        return
    for m in cands.medoids:
        members = set(cands.members[m])
        vars_ = [x[i, m] for i in reps if i in members]
        if len(vars_) > 1:
            model.add_at_most_one(vars_)


def add_moves(
    model: cp_model.CpModel,
    x: X,
    cands: Candidates,
    data: ModelData,
    max_moves: int | None,
) -> cp_model.LinearExpr:
    """At most ``max_moves`` units leave their current cluster; returns the move count.

    A cluster *continues* at most one current group and a group is continued
    by at most one cluster (``t[m, g]``); a unit stays when its cluster
    continues its group. A label fixed to a unit's cluster that equals a
    current group's name forces that continuation; any other fixed label
    forbids continuing a group (the cluster is then called by the fixed label).
    """
    n_known = sum(1 for g in data.current if g >= 0)
    reps = fixed_representatives(data)
    name_index = {name: g for g, name in enumerate(data.group_names)}
    t: dict[tuple[int, int], cp_model.IntVar] = {}
    kept = []
    by_group: dict[int, list[cp_model.IntVar]] = {}
    for m in cands.medoids:
        units = cands.members[m]
        counts: dict[int, list[int]] = {}
        for i in units:
            if data.current[i] >= 0:
                counts.setdefault(data.current[i], []).append(i)
        members_set = set(units)
        for label, rep in reps.items():
            if label in name_index and rep in members_set:
                counts.setdefault(name_index[label], [])
        for g, members in counts.items():
            t[m, g] = model.new_bool_var(f"t[{m},{g}]")
            by_group.setdefault(g, []).append(t[m, g])
            if not members:
                continue
            k = model.new_int_var(0, len(members), f"kept[{m},{g}]")
            model.add(k <= sum(x[i, m] for i in members))
            model.add(k <= len(members) * t[m, g])
            kept.append(k)
        ts = [t[m, g] for g in counts]
        if ts:
            model.add(sum(ts) <= x[m, m])
        for label, rep in reps.items():
            if label in name_index:
                g = name_index[label]
                if (m, g) in t:
                    model.add(t[m, g] == (x[rep, m] if rep in members_set else 0))
            elif rep in members_set and ts:
                model.add(sum(ts) <= 1 - x[rep, m])
    for ts in by_group.values():
        if len(ts) > 1:
            model.add_at_most_one(ts)
    moved = n_known - cp_model.LinearExpr.sum(kept)
    if max_moves is not None:
        model.add(moved <= max_moves)
    return moved


def add_contiguity_static(
    model: cp_model.CpModel, x: X, cands: Candidates, data: ModelData, *, separators: bool = True
) -> None:
    """Each cluster is connected in the adjacency graph (necessary part, stated up front).

    A member not adjacent to its medoid needs, in the same cluster, one of the
    neighbours through which it can reach the medoid (a minimal separator, or
    for large models simply a neighbour).
    This alone does not forbid two disconnected pieces; the solver adds
    separator cuts (:func:`add_separator_cut`) lazily until no plan it finds
    is disconnected.
    """
    assert data.neighbors is not None
    for m in cands.medoids:
        members = set(cands.members[m])
        for i in cands.members[m]:
            if i == m or m in data.neighbors[i]:
                continue
            # a minimal separator costs a graph search per pair: only for small models
            sep = minimal_separator(data.neighbors, (i,), m) if separators else data.neighbors[i]
            model.add(x[i, m] <= sum(x[j, m] for j in sep if j in members))


def minimal_separator(
    neighbors: tuple[tuple[int, ...], ...], piece: Iterable[int], medoid: int
) -> list[int]:
    """Units that every path from ``piece`` to ``medoid`` must cross (a minimal subset).

    ``N`` = the piece's outside neighbours; keep those adjacent to the part of
    the graph that ``medoid`` reaches without crossing ``N``.
    """
    piece_set = set(piece)
    boundary = {v for u in piece_set for v in neighbors[u] if v not in piece_set}
    reach = {medoid}
    queue = deque([medoid])
    while queue:
        u = queue.popleft()
        for v in neighbors[u]:
            if v not in reach and v not in boundary:
                reach.add(v)
                queue.append(v)
    return sorted(v for v in boundary if any(w in reach for w in neighbors[v]))


def add_separator_cut(
    model: cp_model.CpModel,
    x: X,
    cands: Candidates,
    data: ModelData,
    piece: Iterable[int],
    medoid: int,
) -> int:
    """A unit of ``piece`` joins ``medoid`` only if some unit of its separator does too.

    Valid for every connected plan: a path inside the cluster from the unit to
    the medoid crosses the separator. Returns the number of cuts added.
    """
    assert data.neighbors is not None
    piece = list(piece)
    sep = minimal_separator(data.neighbors, piece, medoid)
    members = set(cands.members[medoid])
    rhs = sum(x[j, medoid] for j in sep if j in members)
    added = 0
    for i in piece:
        if i in members:
            model.add(x[i, medoid] <= rhs)
            added += 1
    return added


def cost_floor(
    cands: Candidates, data: ModelData, cost: dict[tuple[int, int], int], m: int,
    n_clusters: int, min_size: int | None,
) -> int:
    """A lower bound on the cost of an open cluster with medoid ``m`` (redundant, for the LP).

    The cluster needs ``min_size - 1`` members besides ``m`` (they cost at least
    the smallest distances to ``m``) and, for each balanced column, enough
    value to reach the band's lower end (a fractional knapsack: cheapest
    distance per unit of value first). The larger of these bounds holds.
    """
    others = sorted(cost[i, m] for i in cands.members[m] if i != m)
    floor = sum(others[: max((min_size or 1) - 1, 0)])
    for col in data.balance:
        lo, _ = col.band_scaled(n_clusters)
        need: float = lo - int(col.ceil_scaled[m])
        if need <= 0:
            continue
        items = sorted(
            ((cost[i, m], int(col.ceil_scaled[i])) for i in cands.members[m]
             if i != m and col.ceil_scaled[i] > 0),
            key=lambda dv: dv[0] / dv[1],
        )
        total = 0.0
        for d, v in items:
            if need <= 0:
                break
            take = min(1.0, need / v)
            total += take * d
            need -= take * v
        floor = max(floor, math.floor(total))
    return floor


def add_cost_floors(
    model: cp_model.CpModel,
    x: X,
    cands: Candidates,
    data: ModelData,
    cost: dict[tuple[int, int], int],
    n_clusters: int,
    min_size: int | None,
) -> int:
    """An open cluster costs at least its :func:`cost_floor` (tightens the bound; returns count)."""
    added = 0
    for m in cands.medoids:
        floor = cost_floor(cands, data, cost, m, n_clusters, min_size)
        if floor > 0:
            model.add(sum(cost[i, m] * x[i, m] for i in cands.members[m] if i != m) >= floor * x[m, m])
            added += 1
    return added
