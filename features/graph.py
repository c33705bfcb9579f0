"""The adjacency graph of units and the connectivity questions contiguity asks.

Nodes are *all* unit ids (isolated units included, so a unit with no neighbour
is visibly its own component); edges are the undirected pairs of the adjacency
file. The checker, the seed, the pre-check and the lazy contiguity cuts all ask
the same few questions, answered here once with networkx.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

import networkx as nx

from features.types import ClusterId, UnitId


def build_adjacency_graph(
    unit_ids: Sequence[UnitId], pairs: Iterable[tuple[UnitId, UnitId]]
) -> nx.Graph:
    """Undirected graph with every unit as a node and one edge per adjacent pair.

    Repeated pairs (in either direction) merge into one edge. The loader has
    already reported unknown ids and self-pairs to the user, so meeting one here
    is a programming error.

    Raises
    ------
    ValueError
        A pair names a unit not in ``unit_ids`` or pairs a unit with itself.
    """
    graph = nx.Graph()
    graph.add_nodes_from(unit_ids)
    for a, b in pairs:
        if a not in graph or b not in graph:
            raise ValueError(f"adjacency pair ({a!r}, {b!r}) names an unknown unit")
        if a == b:
            raise ValueError(f"adjacency pair ({a!r}, {b!r}) is a self-pair")
        graph.add_edge(a, b)
    return graph


def component_count(graph: nx.Graph) -> int:
    """Number of connected components (a contiguous plan needs at least this many clusters)."""
    return nx.number_connected_components(graph)


def components(graph: nx.Graph) -> list[frozenset[UnitId]]:
    """Connected components, largest first (ties: by smallest unit id), for stable output."""
    comps = [frozenset(c) for c in nx.connected_components(graph)]
    return sorted(comps, key=lambda c: (-len(c), min(c)))


def component_index(graph: nx.Graph) -> dict[UnitId, int]:
    """Unit -> index of its component in :func:`components` order."""
    return {unit: i for i, comp in enumerate(components(graph)) for unit in comp}


def pieces(graph: nx.Graph, units: Collection[UnitId]) -> list[frozenset[UnitId]]:
    """Connected pieces of the subgraph induced by ``units``, largest first.

    A cluster is contiguous exactly when it has one piece. For a lazy cut, every
    piece but the one kept is a set ``S`` whose :func:`neighbourhood` must hold a
    member of the cluster whenever ``S`` and another member are both in it.
    """
    comps = [frozenset(c) for c in nx.connected_components(graph.subgraph(units))]
    return sorted(comps, key=lambda c: (-len(c), min(c)))


def neighbourhood(graph: nx.Graph, units: Collection[UnitId]) -> set[UnitId]:
    """Units outside ``units`` adjacent to at least one of them (the vertex boundary)."""
    return set(nx.node_boundary(graph, units))


def is_connected_subset(graph: nx.Graph, units: Collection[UnitId]) -> bool:
    """True when ``units`` induce a connected subgraph.

    A single unit is connected; an empty set counts as connected too (an empty
    cluster is a different violation, reported by the size/count checks).
    """
    if len(units) <= 1:
        return True
    return nx.is_connected(graph.subgraph(units))


def disconnected_clusters(
    graph: nx.Graph, parts: Mapping[ClusterId, Collection[UnitId]]
) -> list[ClusterId]:
    """Clusters (ids from ``parts``, sorted) whose members are not connected in ``graph``."""
    return sorted(
        c for c, units in parts.items() if not is_connected_subset(graph, units)
    )
