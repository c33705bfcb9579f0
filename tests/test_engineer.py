"""Tests of features.engineer: the weighted feature space."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import make_profiles, units_ok_small
from hypothesis import given, settings
from hypothesis import strategies as st

from features.engineer import build_features, project_km


def sqdist(fm, a: str, b: str) -> float:
    i, j = fm.unit_ids.index(a), fm.unit_ids.index(b)
    return float(((fm.values[i] - fm.values[j]) ** 2).sum())


@pytest.fixture(scope="module")
def functions_table():
    """Five units with function sets {a}, {b}, {a;b}, {c;d}, {} ::

    P: a   Q: b   R: a;b   S: c;d   T: (none)
    """
    return make_profiles(
        [
            {"unit_id": "P", "function": "a"},
            {"unit_id": "Q", "function": "b"},
            {"unit_id": "R", "function": "a;b"},
            {"unit_id": "S", "function": "c;d"},
            {"unit_id": "T", "function": ""},
        ]
    )


def test_disjoint_functions_at_distance_weight(functions_table):
    """Units with disjoint function sets (single or multiple) are at squared distance = weight."""
    fm = build_features(functions_table, {"function": 3.0})
    assert sqdist(fm, "P", "Q") == pytest.approx(3.0)
    assert sqdist(fm, "R", "S") == pytest.approx(3.0)
    assert sqdist(fm, "P", "S") == pytest.approx(3.0)


def test_partial_function_overlap(functions_table):
    """{a} vs {a, b} costs (1 - 1/sqrt 2) x weight, by hand."""
    fm = build_features(functions_table, {"function": 2.0})
    assert sqdist(fm, "P", "R") == pytest.approx(2.0 * (1 - 1 / math.sqrt(2)))
    assert sqdist(fm, "P", "P") == 0.0


def test_missing_function_is_zero_vector(functions_table):
    """A unit without function sits at weight/2 from every unit with one."""
    fm = build_features(functions_table, {"function": 4.0})
    t = fm.unit_ids.index("T")
    assert not fm.values[t].any()
    for other in "PQRS":
        assert sqdist(fm, "T", other) == pytest.approx(2.0)
    assert fm.groups == {"function": (0, 1, 2, 3)}
    assert fm.feature_names == ("function=a", "function=b", "function=c", "function=d")


def test_region_one_hot_and_missing():
    """Different regions at distance = weight; no region at weight/2."""
    p = make_profiles(
        [
            {"unit_id": "1", "region": "N"},
            {"unit_id": "2", "region": "S"},
            {"unit_id": "3"},
        ]
    )
    fm = build_features(p, {"region": 2.0})
    assert sqdist(fm, "1", "2") == pytest.approx(2.0)
    assert sqdist(fm, "1", "3") == pytest.approx(1.0)


def test_scale_column_log_then_zscore():
    """Scale column: log1p then z-score, by hand on 0, e-1, e^2-1 -> logs 0, 1, 2."""
    p = make_profiles(
        [
            {"unit_id": "a", "pop": 0.0},
            {"unit_id": "b", "pop": math.e - 1},
            {"unit_id": "c", "pop": math.e**2 - 1},
        ]
    )
    fm = build_features(p, {"pop": 1.0})
    sd = math.sqrt(2 / 3)
    assert fm.values[:, 0] == pytest.approx([-1 / sd, 0.0, 1 / sd])
    fm4 = build_features(p, {"pop": 4.0})
    assert fm4.values[:, 0] == pytest.approx(2 * fm.values[:, 0])


def test_constant_scale_column_is_zero():
    """A constant column contributes nothing (no division by zero)."""
    p = make_profiles([{"unit_id": "a", "x": 5}, {"unit_id": "b", "x": 5}])
    assert not build_features(p, {"x": 1.0}).values.any()


def test_location_unit_total_variance_and_shape():
    """Location block: total variance 1 and distance ratios of the map kept."""
    p = units_ok_small()
    fm = build_features(p, {"location": 1.0})
    xy = fm.values
    assert xy.var(axis=0).sum() == pytest.approx(1.0)
    # on the equator, lon 0,1,2,10,11,12: A-B is 1/10 of A-D
    assert sqdist(fm, "A", "B") / sqdist(fm, "A", "D") == pytest.approx(0.01, rel=1e-6)


def test_project_km_one_degree_on_equator():
    """One degree of longitude on the equator is about 111.2 km."""
    xy = project_km(np.array([0.0, 0.0]), np.array([0.0, 1.0]))
    assert xy[1, 0] - xy[0, 0] == pytest.approx(111.195, rel=1e-4)


def test_weight_zero_drops_block_and_groups_recorded():
    """Weight 0 drops a criterion; groups index the remaining columns."""
    p = units_ok_small()
    fm = build_features(p, {"function": 0.0, "region": 1.0, "population": 2.0})
    assert set(fm.groups) == {"region", "population"}
    assert fm.groups["population"] == (2,)
    assert fm.values.shape == (6, 3)


def test_errors():
    """Unknown criterion, negative weight, missing coordinates or empty scale cells raise."""
    p = make_profiles(
        [{"unit_id": "a", "x": 1.0, "lat": 1, "lon": 1}, {"unit_id": "b", "x": None}]
    )
    with pytest.raises(ValueError, match="unknown"):
        build_features(p, {"nope": 1.0})
    with pytest.raises(ValueError, match=">= 0"):
        build_features(p, {"function": -1.0})
    with pytest.raises(ValueError, match="lat/lon"):
        build_features(p, {"location": 1.0})
    with pytest.raises(ValueError, match="empty cells"):
        build_features(p, {"x": 1.0})


def test_no_weights_gives_zero_columns():
    """Without positive weights the matrix has one row per unit and no columns."""
    fm = build_features(units_ok_small(), {})
    assert fm.values.shape == (6, 0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0, 1e7, allow_nan=False), min_size=2, max_size=12),
    st.floats(0.1, 10),
)
def test_weight_multiplies_squared_distance(values, weight):
    """Doubling-style property: squared distances scale linearly with the weight."""
    p = make_profiles([{"unit_id": str(i), "v": v} for i, v in enumerate(values)])
    base = build_features(p, {"v": 1.0}).values
    scaled = build_features(p, {"v": weight}).values
    d_base = ((base[:, None, :] - base[None, :, :]) ** 2).sum(-1)
    d_scaled = ((scaled[:, None, :] - scaled[None, :, :]) ** 2).sum(-1)
    assert np.allclose(d_scaled, weight * d_base)
