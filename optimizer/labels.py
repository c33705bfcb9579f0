"""Number and name the clusters of a solved partition.

Names matter to planners: "moved" means "my unit's cluster is not called what
it was called last cycle". So, in this order: a cluster holding units fixed to
a label gets that label; the remaining clusters are matched to the remaining
current groups for maximum overlap; clusters sharing no unit with an unmatched
group take the unmatched names in order; every other cluster is called "Cụm 1",
"Cụm 2", … skipping names already in use. Cluster numbers follow each
cluster's medoid position in the table, so the same partition always gets the
same numbering.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from features.i18n import register, tr
from optimizer.data import ModelData

register(
    {
        "labels.default": {"vi": "Cụm {k}", "en": "Cụm {k}"},
    }
)


def label_partition(
    medoid_of: Sequence[int], data: ModelData
) -> tuple[list[int], tuple[str, ...]]:
    """Cluster index per unit and the label of each cluster.

    ``medoid_of[i]`` identifies unit *i*'s cluster by its medoid (any unit id
    inside the cluster works as long as it is shared by all members).
    """
    medoids = sorted(set(medoid_of))
    index = {m: k for k, m in enumerate(medoids)}
    clusters = [index[m] for m in medoid_of]
    k_count = len(medoids)
    labels: list[str | None] = [None] * k_count

    for i, label in enumerate(data.fixed):
        if label is not None:
            labels[clusters[i]] = label
    used = {lab for lab in labels if lab is not None}

    free_clusters = [k for k in range(k_count) if labels[k] is None]
    free_groups = [g for g, name in enumerate(data.group_names) if name not in used]
    if free_clusters and free_groups:
        pairs = _max_overlap_pairs(clusters, data.current, free_clusters, free_groups)
        for k, g in pairs:
            labels[k] = data.group_names[g]
    taken = set(data.group_names) | {lab for lab in labels if lab is not None}
    counter = 1
    for k in range(k_count):
        if labels[k] is None:
            while tr("labels.default", k=counter) in taken:
                counter += 1
            name = tr("labels.default", k=counter)
            labels[k] = name
            taken.add(name)
    return clusters, tuple(lab for lab in labels if lab is not None)


def count_moved(clusters: Sequence[int], labels: Sequence[str], data: ModelData) -> int:
    """Units whose cluster label differs from their current group (unknown ones never move)."""
    return sum(
        1
        for i, g in enumerate(data.current)
        if g >= 0 and labels[clusters[i]] != data.group_names[g]
    )


def _max_overlap_pairs(
    clusters: Sequence[int],
    current: Sequence[int],
    free_clusters: list[int],
    free_groups: list[int],
) -> list[tuple[int, int]]:
    """Pair clusters with current groups, most shared units first, as (cluster, group).

    The overlap table is sparse (a cluster meets at most its size of groups) and
    can be huge: 25 000 clusters × 6 250 groups is 1.25 GB dense, and the dense
    assignment took 5 s per call. So the maximum-overlap matching runs on the
    shared pairs only, each cluster also offered a private "keep no name" slot
    (cost ``top + 1``, against ``top + 1 − overlap`` for a real pair), which
    always admits a full matching and makes its cost ``r·(top + 1) − overlap``:
    the least cost is the greatest overlap. Clusters left on their slot then take
    the groups left over, both in order, as the dense assignment named every
    cluster it could.
    """
    row = {k: r for r, k in enumerate(free_clusters)}
    col = {g: c for c, g in enumerate(free_groups)}
    shared: dict[tuple[int, int], int] = {}
    for i, g in enumerate(current):
        r = row.get(clusters[i])
        c = col.get(g) if g >= 0 else None
        if r is not None and c is not None:
            shared[r, c] = shared.get((r, c), 0) + 1
    n_rows, n_cols = len(free_clusters), len(free_groups)
    top = max(shared.values(), default=0)
    rows = [r for r, _ in shared] + list(range(n_rows))
    cols = [c for _, c in shared] + [n_cols + r for r in range(n_rows)]
    cost = [top + 1 - v for v in shared.values()] + [top + 1] * n_rows
    graph = csr_array(
        (np.asarray(cost, dtype=np.float64), (rows, cols)),
        shape=(n_rows, n_cols + n_rows),
    )
    matched_rows, matched_cols = min_weight_full_bipartite_matching(graph)
    pairs: list[tuple[int, int]] = []
    named_groups: set[int] = set()
    idle_rows: list[int] = []
    for r, c in zip(matched_rows.tolist(), matched_cols.tolist()):
        if c < n_cols:
            pairs.append((free_clusters[r], free_groups[c]))
            named_groups.add(c)
        else:
            idle_rows.append(r)
    idle_cols = [c for c in range(n_cols) if c not in named_groups]
    for r, c in zip(sorted(idle_rows), idle_cols):
        pairs.append((free_clusters[r], free_groups[c]))
    return pairs
