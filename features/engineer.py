"""Turn validated profiles into the weighted feature space the optimizer clusters in.

The space is built so that **squared Euclidean distance means dissimilarity** and
a criterion's weight *multiplies* its share of that distance. Each criterion of
the scenario's ``[similarity]`` table becomes one block of columns, scaled so
that weights are comparable, then multiplied by ``sqrt(weight)``:

``function``
    One-hot over the sorted function categories, divided by ``sqrt(2)``. A unit
    with several functions spreads a unit-length vector over them
    (``1/sqrt(2m)`` on each of its ``m`` functions), so two units whose function
    sets are disjoint are always at squared distance exactly ``weight``, units
    with the same set at 0, and partial overlaps in between (``{a}`` vs
    ``{a, b}``: ``(1 - 1/sqrt(2)) * weight`` ≈ 0.29 × weight).
``region``
    Same one-hot construction (a unit has at most one region). A unit **without
    a region** gets the zero vector: it is at squared distance ``weight / 2``
    from every unit that has a region and 0 from other units without one —
    "half different" from everybody, so missing regions neither attract nor
    repel it strongly. A unit without functions is treated the same way.
``location``
    Kilometres east/north of the mean position (equirectangular projection
    around the mean latitude: exact north–south; east–west off by at most
    about 4 % at the northern and southern tips of Vietnam, far below what
    matters for "nearby"), then divided by one common factor so the two
    coordinates have total variance 1. The average squared distance over all
    pairs of units is therefore ``2 * weight``, and the shape of the map is
    kept (no axis is stretched).
``<scale column>`` (population, budget…)
    ``log1p`` (sign-preserving for negative figures: ``sign(v) * log1p(|v|)``),
    so that 1 000 vs 2 000 counts like 100 000 vs 200 000, then z-scored
    (population standard deviation 1). A constant column contributes zeros.

Categorical blocks are bounded (disjoint categories cost ``weight``); continuous
blocks have unit variance (an average pair costs ``2 * weight``). A weight of 0
drops the criterion. ``FeatureMatrix.groups`` records which columns belong to
which criterion, for explanations and metrics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from features.types import FeatureMatrix, Profiles

#: Mean Earth radius (IUGG), kilometres.
EARTH_RADIUS_KM = 6371.0088

CATEGORICAL_CRITERIA = ("function", "region")
LOCATION = "location"


def build_features(profiles: Profiles, weights: Mapping[str, float]) -> FeatureMatrix:
    """Build the weighted feature space of ``profiles``.

    Parameters
    ----------
    profiles
        Validated unit table.
    weights
        Criterion -> weight (``function``, ``region``, ``location`` or a scale
        column). Weights must be finite and ≥ 0; 0 drops the criterion. The
        scenario layer validates names with user-facing messages first, so an
        unknown name here is a programming error.

    Returns
    -------
    FeatureMatrix
        One row per unit in ``profiles.unit_ids`` order; blocks in the order of
        ``weights``. With no positive weight the matrix has zero columns.

    Raises
    ------
    ValueError
        Unknown criterion, negative or non-finite weight, ``location`` without
        complete coordinates, or a scale column with empty cells (those must
        have been rejected by ``features.validate.require_complete``).
    """
    frame = profiles.frame
    n_units = profiles.n_units
    blocks: list[np.ndarray] = []
    names: list[str] = []
    groups: dict[str, tuple[int, ...]] = {}
    for criterion, weight in weights.items():
        weight = float(weight)
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(
                f"weight of {criterion!r} must be finite and >= 0, got {weight}"
            )
        if criterion in CATEGORICAL_CRITERIA:
            block, block_names = _categorical_block(
                criterion, _category_sets(profiles, criterion)
            )
        elif criterion == LOCATION:
            block, block_names = _location_block(profiles)
        elif criterion in profiles.numeric_columns:
            block, block_names = _scale_block(profiles, criterion), [criterion]
        else:
            raise ValueError(
                f"unknown similarity criterion {criterion!r}; expected function, region, "
                f"location or one of {list(profiles.numeric_columns)}"
            )
        if weight == 0 or block.shape[1] == 0:
            continue
        start = sum(b.shape[1] for b in blocks)
        blocks.append(block * math.sqrt(weight))
        names.extend(block_names)
        groups[criterion] = tuple(range(start, start + block.shape[1]))
    values = np.hstack(blocks) if blocks else np.zeros((n_units, 0))
    return FeatureMatrix(
        values=np.ascontiguousarray(values, dtype=np.float64),
        unit_ids=tuple(frame.index),
        feature_names=tuple(names),
        groups=groups,
    )


def _category_sets(profiles: Profiles, criterion: str) -> list[tuple[str, ...]]:
    """Each unit's categories for ``criterion`` as a tuple (empty when unknown)."""
    if criterion == "function":
        return [
            tuple(v) if isinstance(v, (tuple, list)) else ()
            for v in profiles.frame["functions"]
        ]
    return [(v,) if isinstance(v, str) and v else () for v in profiles.frame["region"]]


def _categorical_block(
    criterion: str, sets: Sequence[tuple[str, ...]]
) -> tuple[np.ndarray, list[str]]:
    """Unit-length spread one-hot / sqrt(2): disjoint sets at squared distance 1."""
    categories = sorted({c for s in sets for c in s})
    index = {c: i for i, c in enumerate(categories)}
    block = np.zeros((len(sets), len(categories)))
    for row, cats in enumerate(sets):
        distinct = sorted(set(cats))
        if distinct:
            block[row, [index[c] for c in distinct]] = 1.0 / math.sqrt(
                2 * len(distinct)
            )
    return block, [f"{criterion}={c}" for c in categories]


def project_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Equirectangular projection around the mean position: (x east, y north) in km."""
    lat0 = float(np.mean(lat))
    lon0 = float(np.mean(lon))
    x = np.radians(lon - lon0) * math.cos(math.radians(lat0)) * EARTH_RADIUS_KM
    y = np.radians(lat - lat0) * EARTH_RADIUS_KM
    return np.column_stack([x, y])


def _location_block(profiles: Profiles) -> tuple[np.ndarray, list[str]]:
    lat = profiles.frame["lat"].to_numpy(dtype=np.float64)
    lon = profiles.frame["lon"].to_numpy(dtype=np.float64)
    missing = ~(np.isfinite(lat) & np.isfinite(lon))
    if missing.any():
        units = [u for u, m in zip(profiles.unit_ids, missing) if m][:10]
        raise ValueError(
            f"location similarity needs lat/lon for every unit; missing for {units}"
        )
    xy = project_km(lat, lon)
    xy = xy - xy.mean(axis=0)
    total_var = float(xy.var(axis=0).sum())
    if total_var > 0:
        xy = xy / math.sqrt(total_var)
    return xy, ["location.x", "location.y"]


def _scale_block(profiles: Profiles, column: str) -> np.ndarray:
    values = profiles.column_values(column)
    if np.isnan(values).any():
        units = [u for u, v in zip(profiles.unit_ids, values) if np.isnan(v)][:10]
        raise ValueError(
            f"scale column {column!r} has empty cells (units {units}); "
            "features.validate.require_complete must reject these first"
        )
    logged = np.sign(values) * np.log1p(np.abs(values))
    centred = logged - logged.mean()
    std = float(centred.std())
    if std > 0:
        centred = centred / std
    return centred.reshape(-1, 1)
