"""The objective every plan is scored by: a p-median (medoid) dispersion.

Definition (quoted by README and ``plan.json``)
------------------------------------------------
Let ``f_i`` be unit *i*'s row of the weighted feature space
(:class:`features.types.FeatureMatrix`) and ``d(i, j) = round(COST_SCALE *
‖f_i − f_j‖²)`` the *integer* squared distance (rounded once, half to even,
per pair). For a plan that splits the units into clusters ``C_1..C_K``::

    cost = Σ_k  min_{m ∈ C_k}  Σ_{i ∈ C_k} d(i, m)          (dispersion)
         + STABILITY_SCALE(stability_weight) × units moved    (when asked)

The member ``m`` that attains the minimum is the cluster's *medoid*: the most
typical unit. ``Plan.objective`` and ``Plan.bound`` are ``cost / COST_SCALE``,
i.e. sums of squared feature distances to the medoid. The cost depends on the
partition only (not on cluster numbering), so a solver bound is a bound on
every plan under the same rules, and brute force over all partitions
confirms optima on tiny tables.

Why a medoid rather than a centroid: the medoid form is linear in
assignment variables ``x[i, m]`` (unit *i* joins the cluster whose medoid is
*m*), its LP relaxation is usually tight (so CP-SAT proves real gaps), and
it has no label symmetry.

A unit is *moved* when the label of its cluster differs from its
``current_cluster`` (labels matched to the current grouping for maximum
overlap, see :mod:`optimizer.labels`). Each move costs
``round(COST_SCALE * stability_weight)``.

Choosing among cluster counts: the cost always falls as clusters are added,
so counts in a range ``[min_count, max_count]`` are compared with the
scale-free Calinski–Harabasz index of the feature space (higher is better;
between-cluster dispersion over within-cluster dispersion, each per degree
of freedom). Ties go to the smaller count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from features.types import FeatureMatrix, UnitId

#: Squared feature distances are multiplied by this and rounded to integers once.
COST_SCALE = 10_000

#: The definition above in plain text, as ``plan.json`` records it next to the numbers.
OBJECTIVE_DEFINITION = (
    "cost = sum over clusters C of min over a member m of C of the sum over i in C "
    "of d(i, m), where d(i, m) = round(COST_SCALE * squared Euclidean distance "
    "between the weighted feature rows of i and m), COST_SCALE = 10000; plus "
    "round(COST_SCALE * stability_weight) per unit moved from its current cluster "
    "when stability_weight > 0. objective and bound are cost / COST_SCALE. "
    "A function of the partition only (the medoid m is the most typical member), "
    "so the bound holds for every plan under the same rules."
)


def distance_matrix(features: FeatureMatrix) -> np.ndarray:
    """Integer squared distances ``d[i, j]`` between all units (int64, n × n).

    Used whole for small problems; large ones call :func:`pair_distances`
    on candidate pairs only so memory stays linear.
    """
    values = np.asarray(features.values, dtype=np.float64)
    sq = np.einsum("ij,ij->i", values, values)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * values @ values.T, 0.0)
    np.fill_diagonal(d2, 0.0)
    return np.rint(d2 * COST_SCALE).astype(np.int64)


def pair_distances(
    features: FeatureMatrix | np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """Integer squared distances for the pairs ``(rows[k], cols[k])`` only (features or their values)."""
    values = np.asarray(getattr(features, "values", features), dtype=np.float64)
    diff = values[rows] - values[cols]
    return np.rint(np.einsum("ij,ij->i", diff, diff) * COST_SCALE).astype(np.int64)


#: Clusters up to this many members get their whole pair matrix (m² pairs);
#: larger ones are screened first (:func:`central_members`).
WHOLE_MATRIX_MAX_MEMBERS = 1_024
#: Pairs computed at once when a cluster is screened (memory: ~this × columns × 8 bytes).
PAIR_CHUNK = 1 << 17


def central_members(
    features: FeatureMatrix | np.ndarray, members: Sequence[int], count: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` members with the smallest ``Σ_i d(i, m)`` over the cluster, and those sums.

    Exactly the column sums of the cluster's :func:`pair_distances` matrix
    (ties: table order), so ``central_members(f, C)[1][0]`` is the cluster's
    cost and ``[0][0]`` its medoid. Why not that matrix: a cluster of 10 000
    units needs 10⁸ pairs (~14 GB of differences at 18 columns; a 20 000-unit
    table in 2 clusters was killed for memory). Above
    :data:`WHOLE_MATRIX_MAX_MEMBERS` members each sum is first found in
    closed form, ``m‖f_j‖² − 2 f_j·Σf + Σ‖f‖²`` (O(m) memory), which differs
    from the rounded integer sum by at most ``m/2`` plus float error; only
    members whose window could reach the ``count``-th smallest are summed
    pair by pair.
    """
    idx = np.asarray(sorted(members), dtype=np.int64)
    m = len(idx)
    count = max(min(count, m), 0)
    if m <= WHOLE_MATRIX_MAX_MEMBERS:
        rows, cols = np.repeat(idx, m), np.tile(idx, m)
        sums = pair_distances(features, rows, cols).reshape(m, m).sum(axis=0)
        order = np.argsort(sums, kind="stable")[:count]
        return idx[order], sums[order]
    values = np.asarray(getattr(features, "values", features), dtype=np.float64)[idx]
    sq = np.einsum("ij,ij->i", values, values)
    cross = values @ values.sum(axis=0)
    approx = COST_SCALE * (m * sq - 2.0 * cross + sq.sum())
    # per-pair rounding (≤ ½ each) plus a float margin far above the closed form's error
    slack = m / 2.0 + 1.0 + 1e-9 * COST_SCALE * (m * sq + 2.0 * np.abs(cross) + sq.sum())
    threshold = np.partition(approx + slack, count - 1)[count - 1] if count else -np.inf
    candidates = np.nonzero(approx - slack <= threshold)[0]
    exact = np.zeros(len(candidates), dtype=np.int64)
    per = max(PAIR_CHUNK // m, 1)
    for s in range(0, len(candidates), per):
        block = candidates[s:s + per]
        rows = np.tile(idx, len(block))
        cols = np.repeat(idx[block], m)
        exact[s:s + per] = pair_distances(features, rows, cols).reshape(len(block), m).sum(axis=1)
    order = np.argsort(exact, kind="stable")[:count]  # candidates ascend: ties keep table order
    return idx[candidates[order]], exact[order]


def move_cost(stability_weight: float) -> int:
    """Integer cost of one moved unit (``COST_SCALE × stability_weight``, rounded)."""
    return round(COST_SCALE * float(stability_weight))


def cluster_cost(members: Sequence[int], dist: np.ndarray) -> tuple[int, int]:
    """Cost of one cluster and its medoid (ties: the first member in table order)."""
    idx = np.asarray(sorted(members), dtype=np.int64)
    sums = dist[np.ix_(idx, idx)].sum(axis=0)
    best = int(np.argmin(sums))
    return int(sums[best]), int(idx[best])


def medoid_dispersion(features: FeatureMatrix | np.ndarray, labels: Sequence[int]) -> int:
    """Integer dispersion of a partition, each cluster at its best medoid (the definition
    above), without a whole distance matrix (:func:`central_members` per cluster)."""
    groups: dict[int, list[int]] = {}
    for i, c in enumerate(labels):
        groups.setdefault(int(c), []).append(i)
    return sum(int(central_members(features, members)[1][0]) for members in groups.values())


def partition_cost(labels: Sequence[int], dist: np.ndarray) -> int:
    """Integer dispersion of a partition given by ``labels[i]`` (unit index order)."""
    groups: dict[int, list[int]] = {}
    for i, c in enumerate(labels):
        groups.setdefault(int(c), []).append(i)
    return sum(cluster_cost(m, dist)[0] for m in groups.values())


def dispersion_of(
    labels: Mapping[UnitId, int], features: FeatureMatrix, dist: np.ndarray | None = None
) -> int:
    """Integer dispersion of an assignment keyed by unit id."""
    if dist is None:
        dist = distance_matrix(features)
    return partition_cost([labels[u] for u in features.unit_ids], dist)


def calinski_harabasz(labels: Sequence[int], features: FeatureMatrix) -> float:
    """Calinski–Harabasz index of a partition (higher = better separated).

    Degenerate cases (one cluster, or as many clusters as units) score 0 so
    they never win a count comparison by accident.
    """
    values = np.asarray(features.values, dtype=np.float64)
    labels_arr = np.asarray(labels)
    n, k = len(labels_arr), len(set(labels_arr.tolist()))
    if k < 2 or k >= n:
        return 0.0
    from sklearn.metrics import calinski_harabasz_score

    return float(calinski_harabasz_score(values, labels_arr))
