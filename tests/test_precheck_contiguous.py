"""Precheck under contiguity: a heavy unit whose every connected neighbourhood tops the band."""

from __future__ import annotations

import pytest

from features.i18n import language
from optimizer.errors import InfeasibleError
from optimizer.precheck import feasible_counts
from tests.helpers import make_problem, make_profiles

#: A path 0-1-2-3-4-5; unit 2 weighs 10, the others 1 (total 15, mean 7.5 over 2 clusters).
VALUES = [1, 1, 10, 1, 1, 1]
PATH = [(f"u{i}", f"u{i + 1}") for i in range(5)]


def _path_problem(tol: float):
    rows = [
        {"unit_id": f"u{i}", "name": f"Đơn vị {i}", "function": "A", "region": "R",
         "lat": 10.0 + i * 0.01, "lon": 106.0, "population": float(v)}
        for i, v in enumerate(VALUES)
    ]
    return make_problem(make_profiles(rows), weights={"population": 1.0}, pairs=PATH,
                        n_clusters=2, min_size=3, contiguous=True, balance={"population": tol})


def test_heavy_neighbourhood_is_infeasible() -> None:
    """±50 %: band ≤ 11.25; unit 2 alone (10) fits, but every connected 3-group holding it is 12."""
    with language("en"), pytest.raises(InfeasibleError) as info:
        feasible_counts(_path_problem(0.5))
    text = str(info.value)
    assert "every connected group of 3 units containing u2 totals ≥ 12" in text
    assert "at least ±60%" in text
    assert set(info.value.rules) == {"balance", "contiguous", "size"}


def test_wide_enough_band_passes() -> None:
    """±70 %: band ≤ 12.75 holds the lightest 3-group around unit 2 (12), so precheck passes."""
    assert feasible_counts(_path_problem(0.7)) == [2]


def test_without_contiguity_the_check_does_not_apply() -> None:
    """The same ±50 % without the contiguity rule is not refused by precheck."""
    problem = _path_problem(0.5)
    import dataclasses

    rules = dataclasses.replace(problem.rules, contiguous=False)
    assert feasible_counts(dataclasses.replace(problem, rules=rules)) == [2]
