"""Values that cross layers. Holding one means its data has been validated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

UnitId = str
ClusterId = int


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which header in the user's file plays which role (spec: ``[data]`` mapping).

    Defaults are the spec's column names; a planner whose sheet says
    ``ma_tinh`` maps ``id="ma_tinh"``. ``numeric`` restricts the scale columns
    (None = every numeric column that is not a role column).
    """

    id: str = "unit_id"
    name: str = "name"
    function: str = "function"
    region: str = "region"
    lat: str = "lat"
    lon: str = "lon"
    current_cluster: str = "current_cluster"
    numeric: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Profiles:
    """The validated unit table; construct only through ``features.validate``.

    ``frame`` is indexed by ``unit_id`` (unique, NFC text, order as in the
    file) with the canonical columns ``name`` (str), ``functions``
    (tuple[str, ...], possibly empty), ``region`` (str or None),
    ``lat``/``lon`` (float or NaN), ``current_cluster`` (str or None), then one
    float column per scale figure (NaN where the file left it empty).
    ``row_of`` maps each unit to the row Excel shows for it, for messages.
    """

    frame: pd.DataFrame
    numeric_columns: tuple[str, ...]
    source: str
    row_of: Mapping[UnitId, int]
    has_location: bool
    has_current: bool
    warnings: tuple[str, ...] = ()
    #: ``unit_ids``, built once: callers index it inside per-unit loops (the
    #: plan report's map did, 10 000 times at 10 000 units: ~5 s of the run).
    _ids: tuple[UnitId, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_ids", tuple(self.frame.index.tolist()))

    @property
    def unit_ids(self) -> tuple[UnitId, ...]:
        return self._ids

    @property
    def n_units(self) -> int:
        return len(self.frame)

    def column_values(self, column: str) -> np.ndarray:
        """Float values of a scale column in unit order (NaN where missing)."""
        return self.frame[column].to_numpy(dtype=np.float64)


@dataclass(frozen=True, slots=True)
class FeatureMatrix:
    """Weighted feature space in which squared distance means dissimilarity.

    Rows follow ``unit_ids``; ``groups`` maps each similarity criterion
    (``function``, ``region``, ``location`` or a scale column) to its column
    indices, so explanations can say *which* criterion ties units together.
    """

    values: np.ndarray  # float64, shape (n_units, n_features)
    unit_ids: tuple[UnitId, ...]
    feature_names: tuple[str, ...]
    groups: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.values.ndim != 2 or self.values.shape[0] != len(self.unit_ids):
            raise ValueError("values must have one row per unit")
        if self.values.shape[1] != len(self.feature_names):
            raise ValueError("one feature name per column required")
