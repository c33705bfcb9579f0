"""Tests of features.graph: adjacency and connectivity helpers."""

from __future__ import annotations

import pytest

from features.graph import (
    build_adjacency_graph,
    component_count,
    component_index,
    components,
    disconnected_clusters,
    is_connected_subset,
    neighbourhood,
    pieces,
)


@pytest.fixture(scope="module")
def two_paths():
    """Units 1-2-3 in a path, 4-5 in a path, 6 isolated::

    1 ─ 2 ─ 3     4 ─ 5     6
    """
    pairs = [("1", "2"), ("2", "3"), ("3", "2"), ("4", "5")]
    return build_adjacency_graph(["1", "2", "3", "4", "5", "6"], pairs)


def test_all_units_are_nodes(two_paths):
    """Isolated units are nodes; repeated pairs merge into one edge."""
    assert set(two_paths.nodes) == {"1", "2", "3", "4", "5", "6"}
    assert two_paths.number_of_edges() == 3


def test_components(two_paths):
    """Three components, largest first, indexed consistently."""
    assert component_count(two_paths) == 3
    assert components(two_paths) == [
        frozenset({"1", "2", "3"}),
        frozenset({"4", "5"}),
        frozenset({"6"}),
    ]
    assert component_index(two_paths)["5"] == 1


def test_connected_subsets(two_paths):
    """Subsets are connected exactly when their induced subgraph is."""
    assert is_connected_subset(two_paths, ["1", "2", "3"])
    assert is_connected_subset(two_paths, ["6"])
    assert is_connected_subset(two_paths, [])
    assert not is_connected_subset(two_paths, ["1", "3"])
    assert not is_connected_subset(two_paths, ["3", "4"])


def test_pieces_and_neighbourhood(two_paths):
    """Pieces of {1,3,4,5}; the boundary of {1} is {2}."""
    assert pieces(two_paths, ["1", "3", "4", "5"]) == [
        frozenset({"4", "5"}),
        frozenset({"1"}),
        frozenset({"3"}),
    ]
    assert neighbourhood(two_paths, ["1"]) == {"2"}
    assert neighbourhood(two_paths, ["1", "2"]) == {"3"}


def test_disconnected_clusters(two_paths):
    """Only clusters whose members are not connected are listed."""
    parts = {0: ["1", "2"], 1: ["3", "4"], 2: ["5", "6"]}
    assert disconnected_clusters(two_paths, parts) == [1, 2]


def test_bad_pairs():
    """Unknown ids and self-pairs are programming errors here."""
    with pytest.raises(ValueError, match="unknown"):
        build_adjacency_graph(["a"], [("a", "b")])
    with pytest.raises(ValueError, match="self"):
        build_adjacency_graph(["a"], [("a", "a")])
