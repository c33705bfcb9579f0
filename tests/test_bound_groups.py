"""Medoid groups in the Lagrangian bound: each group's far costs stay below every true cost.

Why these tests: a far cost above a true pair cost would make the bound exceed
the optimum, silently. The property tests compare, row by row at random
multipliers, the grouped rows with the rows under every pair exact (never
above) and with the ungrouped truncation (never below).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.sample import write_sample
from optimizer import bound as bound_mod
from optimizer import bound_rows
from optimizer.bound import lagrangian_bound
from optimizer.bound_rows import cluster_rows, neighbour_graph, with_groups
from optimizer.objective import COST_SCALE, central_members
from scenarios.definition import load_scenarios
from scenarios.runner import build_problem


def _categorical_table(rng: np.random.Generator, n: int, kinds: int) -> np.ndarray:
    """Units of a few kinds (one-hot, weight 2) spread over a small map: many near twins."""
    kind = rng.integers(0, kinds, size=n)
    onehot = 2.0 * np.eye(kinds)[kind]
    return np.hstack([onehot, rng.normal(scale=0.3, size=(n, 2))])


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=8, max_value=40),
    st.integers(min_value=1, max_value=6),
    st.integers(min_value=2, max_value=6),
    st.booleans(),
)
def test_grouped_rows_lie_between_truncated_and_exact(
    seed: int, n: int, q: int, groups: int, shell: bool,
) -> None:
    """For any multipliers, ρ_j grouped is ≥ ρ_j truncated and ≤ ρ_j with every cost exact."""
    rng = np.random.default_rng(seed)
    values = _categorical_table(rng, n, 3)
    q = min(q, n - 2)
    lo, hi = 2, 4
    u = rng.integers(0, 6 * COST_SCALE, size=n).astype(np.float64)
    exact, _, _ = cluster_rows(neighbour_graph(values, n - 1), u, lo, hi)
    g = neighbour_graph(values, q)
    plain, _, _ = cluster_rows(g, u, lo, hi)
    if shell:  # the large-table form: the shell around each group's centre
        saved, bound_rows.MAX_EXACT_GROUP_PAIRS = bound_rows.MAX_EXACT_GROUP_PAIRS, 0
    try:
        grouped_graph, _ = with_groups(g, values, groups)
    finally:
        if shell:
            bound_rows.MAX_EXACT_GROUP_PAIRS = saved
    grouped, _, _ = cluster_rows(grouped_graph, u, lo, hi)
    assert np.all(grouped <= exact + 1e-6)
    assert np.all(grouped >= plain - 1e-6)


@pytest.mark.parametrize("shell", [False, True])
def test_group_far_costs_never_exceed_a_pair_outside_both_rows(
    monkeypatch: pytest.MonkeyPatch, shell: bool,
) -> None:
    """Every (unit, medoid) pair the exact rows leave out costs at least its group's far cost."""
    if shell:
        monkeypatch.setattr(bound_rows, "MAX_EXACT_GROUP_PAIRS", 0)
    rng = np.random.default_rng(11)
    values = _categorical_table(rng, 150, 4)
    g, work = with_groups(neighbour_graph(values, 8), values, 12)
    assert g.group_far is not None and work > 0
    full = neighbour_graph(values, len(values) - 1)
    d = np.zeros((150, 150))
    d[np.repeat(np.arange(150), 149), full.indices] = full.costs
    for j in range(150):
        row = set(g.indices[g.indptr[j]:g.indptr[j + 1]].tolist()) | {j}
        outside = np.array([i for i in range(150) if i not in row])
        far = g.group_far[g.group_of[j], outside]
        assert np.all(far <= d[outside, j])


def test_groups_lift_the_bound_on_a_sample_table_with_small_clusters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`cumkhoi sample`'s 804 units, similarity on function, region and location, clusters of 5–7.

    Measured: 679 305 grouped against 62 525 truncated (and 477 145 with every
    cost exact but the same work: fewer, dearer steps). The bound stays below
    a real plan's cost: runs of 6 units of one profile along the map, and it is
    the same on a second run (the groups' k-means is seeded).
    """
    n = 804
    write_sample(tmp_path, n, seed=1, force=True)
    (tmp_path / "s.toml").write_text(
        'name = "t"\n[data]\nunits = "units.csv"\n'
        f"[clusters]\ncount = {n // 6}\nmin_size = 5\nmax_size = 7\n"
        "[similarity]\nfunction = 2.0\nregion = 2.0\nlocation = 1.0\n", encoding="utf-8")
    values = build_problem(load_scenarios(tmp_path / "s.toml")[0]).features.values
    profile = np.unique(np.round(values[:, :-2], 6), axis=0, return_inverse=True)[1].ravel()
    labels = np.empty(n, dtype=np.int64)
    labels[np.lexsort((values[:, -1], profile))] = np.arange(n) // 6
    plan_cost = sum(int(central_members(values, np.nonzero(labels == c)[0])[1][0])
                    for c in range(n // 6))
    grouped = lagrangian_bound(values, n // 6, 5, 7, labels, max_work=3 * 10**7)
    assert grouped.groups > 1
    assert lagrangian_bound(values, n // 6, 5, 7, labels, max_work=3 * 10**7) == grouped
    monkeypatch.setattr(bound_mod, "MAX_GROUP_ENTRIES", 0)
    plain = lagrangian_bound(values, n // 6, 5, 7, labels, max_work=3 * 10**7)
    assert grouped.bound >= 5 * plain.bound
    assert grouped.bound <= plan_cost


def test_duplicate_rows_give_fewer_groups_and_no_warning() -> None:
    """Two distinct profiles, 50 units each, 10 groups asked: two groups, quietly (no
    k-means ConvergenceWarning reaches the planner); one profile: no groups at all."""
    twins = np.vstack([np.zeros((50, 3)), np.ones((50, 3))])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g, _ = with_groups(neighbour_graph(twins, 10), twins, 10)
        assert g.group_far is not None and set(g.group_of.tolist()) == {0, 1}
        same = np.zeros((100, 3))
        alone, work = with_groups(neighbour_graph(same, 10), same, 10)
    assert alone.group_of is None and work == 0
