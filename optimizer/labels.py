"""Number and name the clusters of a solved partition.

Names matter to planners: "moved" means "my unit's cluster is not called what
it was called last cycle". So, in this order: a cluster holding units fixed to
a label gets that label; the remaining clusters are matched to the remaining
current groups for maximum overlap (``scipy.optimize.linear_sum_assignment``);
every other cluster is called "Cụm 1", "Cụm 2", … skipping names already in
use. Cluster numbers follow each cluster's medoid position in the table, so
the same partition always gets the same numbering.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

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
        overlap = np.zeros((len(free_clusters), len(free_groups)), dtype=np.int64)
        row = {k: r for r, k in enumerate(free_clusters)}
        col = {g: c for c, g in enumerate(free_groups)}
        for i, g in enumerate(data.current):
            k = clusters[i]
            if g >= 0 and k in row and g in col:
                overlap[row[k], col[g]] += 1
        rows, cols = linear_sum_assignment(overlap, maximize=True)
        for r, c in zip(rows.tolist(), cols.tolist()):
            labels[free_clusters[r]] = data.group_names[free_groups[c]]
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
