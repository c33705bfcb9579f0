"""Tests of optimizer.seed: the scikit-learn warm start."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import (
    UNITS_OK_SMALL_PAIRS,
    make_plan,
    make_problem,
    make_profiles,
    units_ok_small,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from features.graph import build_adjacency_graph, component_count, disconnected_clusters
from optimizer.check import check_plan
from optimizer.seed import repair_sizes, seed_clusters
from optimizer.seed_contiguous import repair_sizes_contiguous

WEIGHTS = {"function": 1.0, "location": 1.0, "population": 1.0}


def grid_profiles(side: int):
    """A side x side grid of units, population growing along rows::

    g0_0 ─ g0_1 ─ g0_2
      │      │      │
    g1_0 ─ g1_1 ─ g1_2   ...
    """
    rows = [
        {"unit_id": f"g{r}_{c}", "lat": float(r), "lon": float(c), "population": 10 + r}
        for r in range(side)
        for c in range(side)
    ]
    pairs = [
        (f"g{r}_{c}", f"g{r}_{c + 1}") for r in range(side) for c in range(side - 1)
    ]
    pairs += [
        (f"g{r}_{c}", f"g{r + 1}_{c}") for r in range(side - 1) for c in range(side)
    ]
    return make_profiles(rows), pairs


def test_obvious_split():
    """Two far-apart groups of three are found exactly."""
    small = units_ok_small()
    labels = seed_clusters(make_problem(small, weights=WEIGHTS), 2).labels
    assert labels == {"A": 0, "B": 0, "C": 0, "D": 1, "E": 1, "F": 1}


def test_deterministic_and_canonical():
    """Same problem and seed give the same labels, numbered by first appearance."""
    profiles, _ = grid_profiles(6)
    problem = make_problem(profiles, weights={"location": 1.0}, n_clusters=5, seed=3)
    first = seed_clusters(problem, 5).labels
    assert seed_clusters(problem, 5).labels == first
    order = list(dict.fromkeys(first[u] for u in profiles.unit_ids))
    assert order == list(range(5))


def test_every_cluster_nonempty_with_duplicates():
    """Identical units (no features at all) still fill every cluster."""
    p = make_profiles([{"unit_id": str(i)} for i in range(7)])
    problem = make_problem(p, weights={}, n_clusters=3)
    labels = seed_clusters(problem, 3).labels
    assert sorted(set(labels.values())) == [0, 1, 2]


def test_size_bounds_respected():
    """The seed honours min/max sizes when they can be met."""
    profiles, _ = grid_profiles(6)  # 36 units
    problem = make_problem(
        profiles, weights={"population": 1.0}, n_clusters=4, min_size=9, max_size=9
    )
    labels = seed_clusters(problem, 4).labels
    assert sorted(np.bincount(list(labels.values()))) == [9, 9, 9, 9]
    assert check_plan(make_plan(labels), problem) == []


def test_contiguous_seed_is_connected():
    """With contiguity and a graph, every seed cluster is connected."""
    profiles, pairs = grid_profiles(6)
    problem = make_problem(
        profiles,
        weights=WEIGHTS | {"function": 0.0},
        pairs=pairs,
        n_clusters=5,
        contiguous=True,
    )
    labels = seed_clusters(problem, 5).labels
    plan = make_plan(labels)
    assert problem.graph is not None
    assert disconnected_clusters(problem.graph, plan.assignment.parts()) == []
    assert plan.n_clusters == 5


def test_contiguous_disconnected_graph():
    """Each component gets its own clusters; too many components are merged."""
    small = units_ok_small()
    pairs = [("A", "B"), ("B", "C"), ("E", "F")]  # components ABC, EF, D
    problem = make_problem(
        small, weights=WEIGHTS, pairs=pairs, n_clusters=4, contiguous=True
    )
    labels = seed_clusters(problem, 4).labels
    assert check_plan(make_plan(labels), problem) == []
    assert labels["D"] not in {labels["A"], labels["E"]}
    tight = make_problem(
        small, weights=WEIGHTS, pairs=pairs, n_clusters=2, contiguous=True
    )
    merged = seed_clusters(tight, 2).labels
    assert sorted(set(merged.values())) == [0, 1]


def test_bad_count():
    """A cluster count outside 1..n_units is a programming error."""
    problem = make_problem(units_ok_small())
    with pytest.raises(ValueError, match="n_clusters"):
        seed_clusters(problem, 7)
    with pytest.raises(ValueError, match="n_clusters"):
        seed_clusters(problem, 0)


def test_graph_unused_without_contiguity():
    """Without the contiguity rule the graph does not constrain the seed."""
    small = units_ok_small()
    problem = make_problem(small, weights=WEIGHTS, pairs=UNITS_OK_SMALL_PAIRS)
    assert seed_clusters(problem, 2).labels["A"] == 0


@settings(max_examples=30, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda k: st.tuples(
            st.just(k),
            st.lists(st.integers(0, k - 1), min_size=k, max_size=30),
            st.integers(0, 3),
            st.integers(0, 4),
        )
    )
)
def test_repair_sizes_reaches_feasible_bounds(case):
    """Whenever k*min <= n <= k*max, repaired sizes lie within the bounds."""
    k, raw, slack_low, slack_high = case
    labels = np.array(raw) % k
    n = len(labels)
    min_size = max(0, n // k - slack_low)
    max_size = -(-n // k) + slack_high
    x = np.random.default_rng(0).normal(size=(n, 2))
    out = repair_sizes(labels, x, k, min_size, max_size)
    counts = np.bincount(out, minlength=k)
    assert counts.min() >= min_size and counts.max() <= max_size
    assert len(out) == n


def test_contiguous_seed_meets_size_bounds():
    """With contiguity and tight sizes, the spanning-tree bisection gives exact sizes."""
    profiles, pairs = grid_profiles(6)  # 36 units
    problem = make_problem(
        profiles,
        weights={"location": 1.0, "population": 1.0},
        pairs=pairs,
        n_clusters=4,
        contiguous=True,
        min_size=9,
        max_size=9,
    )
    labels = seed_clusters(problem, 4).labels
    assert check_plan(make_plan(labels), problem) == []


def test_repair_sizes_contiguous_keeps_connectivity():
    """Repair moves units across borders until sizes fit, never disconnecting a cluster."""
    profiles, pairs = grid_profiles(4)  # 16 units, 4x4 grid
    graph = build_adjacency_graph(profiles.unit_ids, pairs)
    # rows 0-2 in cluster 0 (12 units), row 3 in cluster 1 (4 units)
    labels = np.array([0] * 12 + [1] * 4)
    x = np.zeros((16, 1))
    out = repair_sizes_contiguous(labels, x, 2, graph, profiles.unit_ids, 8, 8)
    assert np.bincount(out).tolist() == [8, 8]
    parts = {
        c: [u for u, lab in zip(profiles.unit_ids, out) if lab == c] for c in (0, 1)
    }
    assert disconnected_clusters(graph, parts) == []


def test_repair_sizes_contiguous_path_through_full_cluster():
    """An oversized cluster reaches a small one through a full cluster in between."""
    ids = tuple(f"p{i}" for i in range(9))
    pairs = [(ids[i], ids[i + 1]) for i in range(8)]  # a path p0-...-p8
    graph = build_adjacency_graph(ids, pairs)
    labels = np.array([0, 0, 0, 0, 0, 1, 1, 1, 2])  # sizes 5, 3, 1 -> want 3, 3, 3
    out = repair_sizes_contiguous(labels, np.zeros((9, 1)), 3, graph, ids, 3, 3)
    assert out.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]


@settings(max_examples=30, deadline=None)
@given(
    st.integers(2, 12).flatmap(
        lambda n: st.tuples(
            st.lists(st.floats(0, 1e5, allow_nan=False), min_size=n, max_size=n),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))),
            st.integers(1, n),
            st.booleans(),
        )
    )
)
def test_seed_is_a_partition_into_k_clusters(case):
    """Any table, graph and k: labels are exactly 0..k-1; contiguous when possible."""
    values, raw_pairs, k, contiguous = case
    rows = [{"unit_id": f"u{i}", "pop": v} for i, v in enumerate(values)]
    pairs = [(f"u{a}", f"u{b}") for a, b in raw_pairs if a != b]
    problem = make_problem(
        make_profiles(rows), pairs=pairs, n_clusters=k, contiguous=contiguous
    )
    labels = seed_clusters(problem, k).labels
    assert set(labels) == set(problem.unit_ids)
    assert set(labels.values()) == set(range(k))
    assert problem.graph is not None
    if contiguous and component_count(problem.graph) <= k:
        parts = make_plan(labels).assignment.parts()
        assert disconnected_clusters(problem.graph, parts) == []


def test_one_region_seed_never_mixes_regions():
    """Under one_region, clusters are shared out over regions and never mix two.

    North: six units of population 100-105; South: three of 1000-1002; x has
    no region and population 1001, so it joins the (nearer) South.
    """
    rows = [
        {"unit_id": f"n{i}", "region": "North", "population": 100 + i} for i in range(6)
    ]
    rows += [
        {"unit_id": f"s{i}", "region": "South", "population": 1000 + i}
        for i in range(3)
    ]
    rows += [{"unit_id": "x", "population": 1001}]
    profiles = make_profiles(rows)
    problem = make_problem(
        profiles, weights={"population": 1.0}, n_clusters=3, one_region=True
    )
    labels = seed_clusters(problem, 3).labels
    assert check_plan(make_plan(labels), problem) == []
    assert len({labels[f"n{i}"] for i in range(6)}) == 2
    assert {labels[u] for u in ("s0", "s1", "s2", "x")} == {labels["s0"]}


def test_more_regions_than_clusters_falls_back():
    """With more regions than clusters, the seed still returns k clusters."""
    rows = [{"unit_id": str(i), "region": f"R{i}", "population": i} for i in range(4)]
    problem = make_problem(make_profiles(rows), n_clusters=2, one_region=True)
    assert sorted(set(seed_clusters(problem, 2).labels.values())) == [0, 1]


def test_one_function_seed_is_block_mode():
    """Under one_function, every seed cluster shares a function.

    Functions: a x4, b x2, "a;b" x2 (goes with the more widespread a).
    """
    fns = ["a", "a", "a", "a", "b", "b", "a;b", "a;b"]
    rows = [
        {"unit_id": f"u{i}", "function": f, "population": 10 * (i + 1)}
        for i, f in enumerate(fns)
    ]
    problem = make_problem(
        make_profiles(rows),
        weights={"population": 1.0},
        n_clusters=3,
        one_function=True,
    )
    labels = seed_clusters(problem, 3).labels
    assert check_plan(make_plan(labels), problem) == []
    assert labels["u4"] == labels["u5"]
    assert labels["u4"] not in {labels["u6"], labels["u7"]}


def test_kmeans_single_threaded_on_ordinary_tables(monkeypatch):
    """KMeans runs on one OpenMP thread up to KMEANS_ONE_THREAD_MAX units.

    Why: its result must not depend on the machine's core count, and on a
    loaded machine two waiting threads made it 14x slower (see the constant).
    """
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_info

    import optimizer.seed as seed_module

    seen: list[int] = []
    original = KMeans.fit_predict

    def spy(self, x, *args, **kwargs):
        seen.extend(p["num_threads"] for p in threadpool_info() if p["user_api"] == "openmp")
        return original(self, x, *args, **kwargs)

    monkeypatch.setattr(KMeans, "fit_predict", spy)
    x = np.random.default_rng(0).normal(size=(60, 3))
    labels = seed_module._kmeans_labels(x, 4, seed=0)
    assert len(set(labels.tolist())) == 4
    assert seen and set(seen) == {1}
    # above the limit the machine's threads are kept (on a 1-core machine both are 1)
    default = {p["num_threads"] for p in threadpool_info() if p["user_api"] == "openmp"}
    monkeypatch.setattr(seed_module, "KMEANS_ONE_THREAD_MAX", 10)
    seen.clear()
    seed_module._kmeans_labels(x, 4, seed=0)
    assert seen and set(seen) == default


def test_kmeans_seeds_use_random_centres_past_the_pair_cap(monkeypatch):
    """Past KMEANS_PLUSPLUS_MAX_PAIRS unit × cluster pairs the seed draws random centres
    (k-means++ spent 36 s at 50 000 units in 25 000 pairs); below it, k-means++. Either way
    the labels cover every cluster and repeat for one seed."""
    import optimizer.seed as seed_module

    used: list[str] = []
    real = seed_module.KMeans

    def spy(*args, **kwargs):
        used.append(kwargs["init"])
        return real(*args, **kwargs)

    monkeypatch.setattr(seed_module, "KMeans", spy)
    x = np.random.default_rng(0).normal(size=(300, 3))
    below = seed_module._kmeans_labels(x, 30, seed=1)
    monkeypatch.setattr(seed_module, "KMEANS_PLUSPLUS_MAX_PAIRS", 300 * 30 - 1)
    past = seed_module._kmeans_labels(x, 30, seed=1)
    again = seed_module._kmeans_labels(x, 30, seed=1)
    assert used == ["k-means++", "random", "random"]
    assert past.tolist() == again.tolist()
    assert len(set(below.tolist())) == len(set(past.tolist())) == 30


def test_work_cap_limits_kmeans_iterations_in_every_block(monkeypatch):
    """``max_work`` (unit–centre distances over restarts and blocks) caps KMeans' iterations:
    50 000 units in 7 000 clusters ran 27 iterations, 13 s of a 60-s limit, before the solve's
    clock could stop anything. Without the cap scikit-learn's 300 stay; the capped seed is
    still a deterministic partition into k clusters."""
    import optimizer.seed as seed_module

    iterations: list[int] = []
    real = seed_module.KMeans

    def spy(*args, **kwargs):
        iterations.append(kwargs["max_iter"])
        return real(*args, **kwargs)

    monkeypatch.setattr(seed_module, "KMeans", spy)
    rng = np.random.default_rng(3)
    rows = [{"unit_id": f"u{i:03d}", "region": "North" if i < 120 else "South",
             "lat": float(rng.normal()), "lon": float(rng.normal()),
             "population": float(rng.integers(100, 1000))} for i in range(240)]
    problem = make_problem(make_profiles(rows), n_clusters=12, one_region=True)
    seed_clusters(problem, 12)
    assert iterations == [seed_module.KMEANS_MAX_ITER] * 2  # one KMeans per region
    iterations.clear()
    # two blocks of 120 units, 6 clusters each: 1 440 pairs per iteration and restart
    budget = 1440 * seed_module._n_init(120) * 2
    capped = seed_clusters(problem, 12, max_work=budget)
    again = seed_clusters(problem, 12, max_work=budget)
    assert iterations == [2] * 4
    assert capped.labels == again.labels
    assert len(set(capped.labels.values())) == 12
    assert check_plan(make_plan(capped.labels), problem) == []
    iterations.clear()
    seed_clusters(problem, 12, max_work=1)  # never below one iteration
    assert iterations == [1, 1]


def test_the_tree_cut_is_the_double_loops_choice():
    """The spanning-tree bisection picks, over every subtree v and every cluster count p, the
    least |size − n·p/parts|, then the heaviest edge, then the lowest v; the first p on a tie.
    It now looks only at the two targets around each size (50 000 units in 8 333 contiguous
    clusters: the double loop took 54 s); the choice must be the loop's, ties included."""
    from optimizer.seed_contiguous import _best_cut

    rng = np.random.default_rng(5)
    for trial in range(400):
        parts = int(rng.integers(2, 60))
        n = int(rng.integers(parts, 400))
        candidates = rng.permutation(n)[: int(rng.integers(1, n))].tolist()
        size = {v: int(rng.integers(1, n)) for v in candidates}
        # a few weights only, so the weight tie-break and the v tie-break are both exercised
        parent_w = {v: float(rng.integers(0, 3)) for v in candidates}
        third = max(1, parts // 3)
        choices = sorted({p for p in range(third, 2 * third + 1) if 0 < p < parts} | {parts // 2})
        best = None
        for v in candidates:
            for p in choices:
                key = (abs(size[v] - n * p / parts), -parent_w[v], v)
                if best is None or key < best[0]:
                    best = (key, v, p)
        assert _best_cut(candidates, size, parent_w, n, parts, choices) == best[1:], trial
