"""Build the CP-SAT p-median model of one problem at one cluster count (no solving).

Variables are ``x[i, m]`` for candidate pairs only: unit *i* joins the
cluster whose medoid is *m*; ``x[m, m]`` opens that cluster. The objective is
the one defined in :mod:`optimizer.objective`. Contiguity is stated here only
in its necessary form; :mod:`optimizer.solve` adds separator cuts lazily.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from optimizer import constraints as C
from optimizer.candidates import Candidates
from optimizer.data import ModelData, prepare
from optimizer.objective import move_cost, pair_distances
from optimizer.problem import Problem

#: Static contiguity cuts use minimal separators up to this many units.
SEPARATOR_MAX_UNITS = 400


@dataclass
class AssignmentModel:
    """A built model and the handles the solver needs to read and extend it."""

    model: cp_model.CpModel
    x: dict[tuple[int, int], cp_model.IntVar]
    candidates: Candidates
    data: ModelData
    n_clusters: int
    cost: dict[tuple[int, int], int]  # integer distance of each pair
    moved: cp_model.LinearExpr | int = 0
    move_cost: int = 0
    rules_used: list[str] = field(default_factory=list)
    objective: cp_model.LinearExpr | int = 0  # the minimised expression (for cutoffs)

    def hint(self, medoid_of: Mapping[int, int]) -> int:
        """Hint ``unit -> medoid`` (only pairs that exist); returns pairs hinted to 1."""
        self.model.clear_hints()
        hinted = 0
        for (i, m), var in self.x.items():
            value = 1 if medoid_of.get(i) == m else 0
            self.model.add_hint(var, value)
            hinted += value
        return hinted


def build_model(
    problem: Problem,
    n_clusters: int,
    candidates: Candidates,
    *,
    data: ModelData | None = None,
) -> AssignmentModel:
    """The p-median model with every rule of ``problem`` for ``n_clusters`` clusters."""
    data = data if data is not None else prepare(problem)
    rules = problem.rules
    model = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    rows, cols = [], []
    for m in candidates.medoids:
        for i in candidates.members[m]:
            x[i, m] = model.new_bool_var(f"x[{i},{m}]")
            rows.append(i)
            cols.append(m)
    dist = pair_distances(problem.features, np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))
    cost = {(i, m): int(d) for i, m, d in zip(rows, cols, dist.tolist())}

    used = ["partition", "count"]
    C.add_exact_partition(model, x, candidates, data.n)
    C.add_cluster_count(model, x, candidates, n_clusters)
    C.add_size_bounds(model, x, candidates, rules.min_size, rules.max_size)
    if rules.min_size is not None or rules.max_size is not None:
        used.append("size")
    if data.balance:
        C.add_balance(model, x, candidates, data, n_clusters)
        used.append("balance")
    if data.one_region:
        C.add_one_region(model, x, candidates, data)
        used.append("one_region")
    if data.one_function:
        C.add_one_function(model, x, candidates, data)
        used.append("one_function")
    if rules.together:
        used.append("together")
    if data.blocks:
        C.add_together(model, x, candidates, data)
    if data.apart:
        C.add_apart(model, x, candidates, data)
        used.append("apart")
    if data.fixed_labels:
        C.add_fixed(model, x, candidates, data)
        used.append("fixed")
    if rules.contiguous and data.neighbors is not None:
        C.add_contiguity_static(
            model, x, candidates, data, separators=data.n <= SEPARATOR_MAX_UNITS
        )
        used.append("contiguous")

    C.add_cost_floors(model, x, candidates, data, cost, n_clusters, rules.min_size)

    am = AssignmentModel(
        model=model, x=x, candidates=candidates, data=data, n_clusters=n_clusters, cost=cost
    )
    has_groups = any(g >= 0 for g in data.current)
    am.move_cost = move_cost(rules.stability_weight) if has_groups else 0
    if has_groups and (rules.max_moves is not None or am.move_cost > 0):
        am.moved = C.add_moves(model, x, candidates, data, rules.max_moves)
        if rules.max_moves is not None:
            used.append("max_moves")
    pairs = [p for p, c in cost.items() if c]
    objective = cp_model.LinearExpr.weighted_sum([x[p] for p in pairs], [cost[p] for p in pairs])
    if am.move_cost:
        objective = objective + am.move_cost * am.moved
    model.minimize(objective)
    am.objective = objective
    am.rules_used = used
    return am
