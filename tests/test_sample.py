"""The synthetic unit-table generator: shape, determinism, connectivity, files."""

from __future__ import annotations

import time

import networkx as nx
import numpy as np
import pytest

from features.errors import InputError
from features.load import load_adjacency, load_units
from features.sample import (
    FUNCTIONS,
    REGIONS,
    VIETNAM_OUTLINE,
    _inside,
    generate_units,
    write_sample,
)


def _graph(frame, pairs) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(frame["unit_id"])
    graph.add_edges_from(pairs)
    return graph


@pytest.mark.parametrize("n_units", [1, 2, 3, 7, 60, 500])
def test_sizes_ids_and_connectivity(n_units):
    """n rows, unique zero-padded ids, a connected simple adjacency graph."""
    frame, pairs = generate_units(n_units, seed=3)
    assert len(frame) == n_units
    assert frame["unit_id"].is_unique
    assert frame["unit_id"].iloc[0] == "00001"
    assert all(len(u) == 5 for u in frame["unit_id"])
    graph = _graph(frame, pairs)
    assert nx.is_connected(graph)
    assert graph.number_of_edges() == len(pairs)  # no repeated pairs
    assert all(a != b for a, b in pairs)


def test_same_seed_same_table_other_seed_differs():
    """A seed reproduces the table and pairs exactly; another seed does not."""
    a, pairs_a = generate_units(300, seed=11)
    b, pairs_b = generate_units(300, seed=11)
    c, _ = generate_units(300, seed=12)
    assert a.equals(b) and pairs_a == pairs_b
    assert not a.equals(c)


def test_vietnam_shape_regions_and_functions():
    """Points lie in the outline, 7 regions, 9 Zipf-skewed functions, some doubles."""
    frame, _ = generate_units(3000, seed=0)
    assert (
        frame["lat"].between(8.6, 23.3).all()
        and frame["lon"].between(102.1, 109.5).all()
    )
    inside = _inside(frame[["lon", "lat"]].to_numpy(), VIETNAM_OUTLINE)
    assert inside.all()
    assert set(frame["region"]) == {r[0] for r in REGIONS}
    singles = frame["function"][~frame["function"].str.contains(";")]
    counts = singles.value_counts()
    assert set(counts.index) == set(FUNCTIONS)
    assert counts[FUNCTIONS[0]] > 3 * counts[FUNCTIONS[-1]]  # skewed
    share_two = frame["function"].str.contains(";").mean()
    assert 0.05 < share_two < 0.25
    north = frame[frame["lat"] > 20]["region"].value_counts()
    south = frame[frame["lat"] < 11]["region"].value_counts()
    assert "Đồng bằng sông Cửu Long" not in north and "Đồng bằng sông Hồng" not in south


def test_scale_is_lognormal_and_positive():
    """Population is positive and right-skewed (mean well above median)."""
    frame, _ = generate_units(2000, seed=5)
    population = frame["population"].to_numpy(dtype=float)
    assert (population > 0).all()
    assert population.mean() > 1.2 * np.median(population)
    assert (frame["area_km2"] > 0).all() and (frame["budget_mn_vnd"] >= 0).all()


def test_prior_grouping_is_regional_and_small():
    """current_cluster groups have ~8 units and never span two regions."""
    frame, _ = generate_units(800, seed=2)
    sizes = frame.groupby("current_cluster").size()
    assert sizes.between(4, 16).all()
    assert (frame.groupby("current_cluster")["region"].nunique() == 1).all()


def test_names_have_diacritics_and_are_distinct():
    """Names are Vietnamese with diacritics; repeats are numbered."""
    frame, _ = generate_units(5000, seed=0)
    assert frame["name"].is_unique
    assert frame["name"].str.contains("[ăâđêôơưàáảãạ]", regex=True).any()


def test_bad_count_is_input_error():
    """Zero units is a user error, not a crash."""
    with pytest.raises(InputError):
        generate_units(0)


def test_write_sample_validates_and_refuses_overwrite(tmp_path):
    """Written files load cleanly (BOM, leading zeros); a second write needs force."""
    units_path, adjacency_path = write_sample(tmp_path / "out", 120, seed=4)
    assert units_path.read_bytes().startswith(b"\xef\xbb\xbf")
    profiles = load_units(units_path)
    assert profiles.n_units == 120 and profiles.frame.index[0] == "00001"
    assert profiles.has_current and profiles.has_location
    assert set(profiles.numeric_columns) == {"population", "area_km2", "budget_mn_vnd"}
    assert profiles.warnings == ()
    pairs = load_adjacency(adjacency_path, profiles.unit_ids)
    assert nx.is_connected(_graph(profiles.frame.reset_index(), pairs))
    before = units_path.read_bytes()
    with pytest.raises(InputError, match="units.csv"):
        write_sample(tmp_path / "out", 50, seed=9)
    assert units_path.read_bytes() == before
    write_sample(tmp_path / "out", 50, seed=9, force=True)
    assert load_units(units_path).n_units == 50
    assert not [p for p in (tmp_path / "out").iterdir() if p.suffix == ".tmp"]


def test_ten_thousand_units_quickly(tmp_path):
    """10 000 units are generated, written and validated in a few seconds."""
    start = time.perf_counter()
    units_path, adjacency_path = write_sample(tmp_path, 10_000, seed=0)
    profiles = load_units(units_path)
    pairs = load_adjacency(adjacency_path, profiles.unit_ids)
    elapsed = time.perf_counter() - start
    assert profiles.n_units == 10_000
    assert nx.is_connected(_graph(profiles.frame.reset_index(), pairs))
    assert elapsed < 15.0  # ~1 s on a quiet machine; generous for loaded CI


def test_write_into_a_file_path_is_input_error(tmp_path):
    """An output 'folder' that is a file gives an InputError, not a traceback."""
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x", "utf-8")
    with pytest.raises(InputError, match="not_a_folder"):
        write_sample(blocker, 10)
