"""Comparison of scenarios: hand-checked partition distances, verdicts, JSON."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import report_helpers as h
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from features.i18n import language
from optimizer.plan import SolveStatus
from scenarios.compare import (
    compare,
    comparison_to_json,
    contingency,
    match_labels,
    units_to_move,
    variation_of_information,
)
from scenarios.errors import ScenarioError

#: grid rows regrouped as {01,02} | {03,04,05,06}: exactly unit 03 moves.
SHIFT = {"01": 0, "02": 0, "03": 1, "04": 1, "05": 1, "06": 1}


def test_vi_of_identical_partitions_is_zero() -> None:
    """A plan is at distance 0 from itself."""
    assert variation_of_information(h.ROWS, h.ROWS) == 0.0
    assert units_to_move(h.ROWS, h.ROWS) == 0


def test_relabelled_partition_is_distance_zero() -> None:
    """Swapping cluster numbers does not change the plan."""
    swapped = {u: 1 - c for u, c in h.ROWS.items()}
    assert variation_of_information(h.ROWS, swapped) == pytest.approx(0.0, abs=1e-12)
    assert units_to_move(h.ROWS, swapped) == 0
    assert match_labels(h.ROWS, swapped) == {0: 1, 1: 0}


def test_independent_partitions_vi_is_sum_of_entropies() -> None:
    """Rows vs columns are independent: VI = H(A) + H(B) = 1 + H(1/3, 2/3) bits."""
    expected = 1.0 + (-(1 / 3) * math.log2(1 / 3) - (2 / 3) * math.log2(2 / 3))
    assert variation_of_information(h.ROWS, h.COLS) == pytest.approx(expected)
    # contingency [[1, 2], [1, 2]]: best matching keeps 3 of 6
    assert units_to_move(h.ROWS, h.COLS) == 3


def test_one_unit_shift_moves_one_unit() -> None:
    """Contingency [[2, 1], [0, 3]] keeps 5 units: one must move."""
    assert units_to_move(h.ROWS, SHIFT) == 1
    assert units_to_move(SHIFT, h.ROWS) == 1


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=40))
def test_sparse_distances_equal_the_dense_hungarian_ones(pairs) -> None:
    """On the nonzero cells only, the same figures as the dense table gives: units to move
    as the Hungarian algorithm's, a one-to-one mapping of min(clusters) keeping as many
    units, and VI as the dense sum (the dense table took 2.7 GB at 50 000 units)."""
    a = {f"u{i}": pa for i, (pa, _) in enumerate(pairs)}
    b = {f"u{i}": pb for i, (_, pb) in enumerate(pairs)}
    table, labels_a, labels_b = contingency(a, b)
    r, c = linear_sum_assignment(table, maximize=True)
    best = int(table[r, c].sum())
    assert units_to_move(a, b) == len(pairs) - best
    mapping = match_labels(a, b)
    mapped = {lb: la for lb, la in mapping.items() if la is not None}
    assert len(mapped) == min(len(labels_a), len(labels_b))
    assert len(set(mapped.values())) == len(mapped)  # one-to-one
    kept = sum(int(table[labels_a.index(la), labels_b.index(lb)]) for lb, la in mapped.items())
    assert kept == best
    p = table / table.sum()
    pa, pb = p.sum(axis=1, keepdims=True), p.sum(axis=0, keepdims=True)
    nz = p > 0
    dense = -float(np.sum(p[nz] * np.log2((p * p / (pa * pb))[nz])))
    assert variation_of_information(a, b) == pytest.approx(max(dense, 0.0), abs=1e-12)


def test_different_unit_sets_rejected() -> None:
    """Plans of different tables cannot be compared."""
    with pytest.raises(ValueError, match="different units"):
        units_to_move(h.ROWS, {"01": 0})


partitions = st.lists(st.integers(0, 3), min_size=1, max_size=12)


@given(partitions, partitions, st.permutations([0, 1, 2, 3]))
def test_distances_are_label_free_and_symmetric(
    xs: list[int], ys: list[int], perm: list[int]
) -> None:
    """Distances ignore labels, are symmetric, and vanish together."""
    n = min(len(xs), len(ys))
    a = {str(i): xs[i] for i in range(n)}
    b = {str(i): ys[i] for i in range(n)}
    b_perm = {u: perm[c] for u, c in b.items()}
    vi = variation_of_information(a, b)
    assert vi >= 0
    assert vi == pytest.approx(variation_of_information(b, a), abs=1e-9)
    assert vi == pytest.approx(variation_of_information(a, b_perm), abs=1e-9)
    moves = units_to_move(a, b)
    assert moves == units_to_move(a, b_perm) == units_to_move(b, a)
    assert (moves == 0) == (vi < 1e-9)
    assert vi <= math.log2(n) + 1e-9


def _three() -> list:
    return [
        h.result(
            "rows",
            h.ROWS,
            metrics={
                "dispersion": 0.30,
                "balance_dev:population": 0.57,
                "units_moved": 0,
            },
        ),
        h.result(
            "shift",
            SHIFT,
            metrics={
                "dispersion": 0.20,
                "balance_dev:population": 0.14,
                "units_moved": 1,
            },
            status=SolveStatus.FEASIBLE,
        ),
        h.result("impossible", None),
    ]


def test_compare_rows_columns_and_verdicts() -> None:
    """Rows keep input order; verdicts go to the best scenario by each number."""
    comparison = compare(_three())
    assert comparison.names == ("rows", "shift", "impossible")
    assert comparison.columns[:5] == (
        "n_clusters",
        "size_min",
        "size_max",
        "size_spread",
        "dispersion",
    )
    assert "balance_dev:population" in comparison.columns
    assert comparison.values["rows"]["size_min"] == 3.0
    assert comparison.values["shift"]["size_spread"] == 2.0
    assert comparison.values["impossible"]["dispersion"] is None
    assert comparison.verdicts["rows"] == ("fewest_moves", "even_sizes", "proven")
    assert comparison.verdicts["shift"] == ("balanced", "homogeneous")
    with language("vi"):
        assert comparison.verdict_text("shift") == "cân bằng nhất, đồng nhất nhất"
        assert comparison.verdict_text("impossible").startswith(
            "không có phương án: quy mô"
        )
    with language("en"):
        assert (
            comparison.verdict_text("rows")
            == "fewest moves, most even cluster sizes, proven optimal"
        )


def test_compare_distances_and_differing_units() -> None:
    """Only feasible pairs get distances; unit 03 is the one that differs."""
    comparison = compare(_three())
    assert len(comparison.distances) == 1
    pair = comparison.distances[0]
    assert (pair.a, pair.b, pair.units_to_move) == ("rows", "shift", 1)
    assert [u.unit_id for u in comparison.differing_units] == ["03"]
    assert dict(comparison.differing_units[0].clusters) == {
        "rows": "Cụm A",
        "shift": "Cụm B",
    }


def test_duplicate_names_rejected() -> None:
    """Two scenarios with one name would make every table ambiguous."""
    with language("en"), pytest.raises(ScenarioError, match="unique"):
        compare([h.result("x", h.ROWS), h.result("x", SHIFT)])


def test_plans_of_different_tables_rejected() -> None:
    """Plans over different unit sets cannot be compared: a user error naming both."""
    other = h.result("khác", h.ROWS)
    fewer = dataclasses.replace(
        other.plan,
        assignment=dataclasses.replace(
            other.plan.assignment, labels={**h.ROWS, "07": 0}
        ),
    )
    with language("en"), pytest.raises(ScenarioError, match="'rows' with 'khác'"):
        compare([h.result("rows", h.ROWS), dataclasses.replace(other, plan=fewer)])


def test_comparison_json_is_stable_and_complete() -> None:
    """One entry per scenario, pairwise distances, differing units, fixed floats."""
    with language("en"):
        doc = comparison_to_json(compare(_three()))
        again = comparison_to_json(compare(_three()))
    assert json.dumps(doc, sort_keys=True) == json.dumps(again, sort_keys=True)
    assert [s["name"] for s in doc["scenarios"]] == ["rows", "shift", "impossible"]
    shift = doc["scenarios"][1]
    assert shift["status"] == "FEASIBLE"
    assert shift["gap"] == pytest.approx(0.2)
    assert shift["sizes"] == [2, 4]
    assert shift["metrics"]["dispersion"] == 0.2
    assert doc["scenarios"][2]["status"] == "INFEASIBLE"
    assert doc["scenarios"][2]["error"].startswith("quy mô")
    assert doc["distances"] == [
        {
            "a": "rows",
            "b": "shift",
            "variation_of_information": 1.0,  # 2·H(A,B) − H(A) − H(B)
            "units_to_move": 1,
        }
    ]
    assert doc["differing_units"][0]["unit_id"] == "03"
    assert doc["timings"]["solve_seconds"] == {"rows": 0.25, "shift": 0.25}
    assert [s["notes"] for s in doc["scenarios"]] == [[], [], []]


def test_comparison_json_carries_each_plans_notes() -> None:
    """A plan's note (e.g. a rerun may differ) reaches the scripts that read comparison.json."""
    results = _three()
    shift = results[1]
    results[1] = dataclasses.replace(
        shift, plan=dataclasses.replace(shift.plan, notes=("a rerun may differ",))
    )
    with language("en"):
        doc = comparison_to_json(compare(results))
    assert [s["notes"] for s in doc["scenarios"]] == [[], ["a rerun may differ"], []]
