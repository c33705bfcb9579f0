"""Unit explanations and plan summaries on a hand-checked toy plan.

Toy (``units_ok_small``) with similarity on function and region only, so every
squared distance is 0 (same function and region), or 2 (A–C school/North vs
D–F hospital/South)::

    cluster 0 "X": A B C      cluster 1 "Y": D E F
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from helpers import make_plan, make_problem, units_ok_small

from features.errors import ClusterAssignError
from features.i18n import language
from optimizer.explain import (
    binding_rules,
    criterion_shares,
    explain_unit,
    summarize_plan,
)
from optimizer.objective import COST_SCALE, dispersion_of
from optimizer.plan import SolveStatus

WEIGHTS = {"function": 1.0, "region": 1.0}


def _problem(**rules):
    return make_problem(units_ok_small(), weights=WEIGHTS, **rules)


def _plan(labels="000111", **kw):
    return make_plan(
        [int(c) for c in labels],
        unit_ids=list("ABCDEF"),
        cluster_labels=["X", "Y"],
        **kw,
    )


def test_unit_tied_by_function_and_region():
    """A's nearest members are B and C at distance 0 on both criteria (ratio 0)."""
    e = explain_unit(_plan(), _problem(), "A")
    assert (e.cluster, e.label, e.cluster_size) == (0, "X", 3)
    assert {t.criterion for t in e.ties} == {"function", "region"}
    for tie in e.ties:
        assert [u for u, _ in tie.nearest] == ["B", "C"]
        assert all(d == 0 for _, d in tie.nearest)
        assert tie.ratio == 0
    assert e.same_region == ("B", "C") and e.same_function == ("B", "C")


def test_move_cost_is_hand_computed_delta():
    """Moving A into D,E,F costs 2 (function 1 + region 1 to the medoid); nothing breaks."""
    e = explain_unit(_plan(), _problem(), "A")
    (move,) = e.moves
    assert (move.cluster, move.label) == (1, "Y")
    assert move.delta == pytest.approx(2.0)
    assert move.broken == ()


def test_move_delta_matches_full_recomputation():
    """The incremental delta equals the dispersion difference of whole plans."""
    problem = make_problem(units_ok_small(), n_clusters=3)
    plan = make_plan([0, 0, 1, 1, 2, 2], unit_ids=list("ABCDEF"))
    e = explain_unit(plan, problem, "C", n_moves=5)
    before = dispersion_of(plan.assignment.labels, problem.features)
    for move in e.moves:
        after = dispersion_of(
            {**plan.assignment.labels, "C": move.cluster}, problem.features
        )
        assert move.delta == pytest.approx((after - before) / COST_SCALE)


def test_move_reports_broken_rules():
    """With sizes fixed at 3, moving A breaks both min_size and max_size."""
    e = explain_unit(_plan(), _problem(min_size=3, max_size=3), "A")
    assert set(e.moves[0].broken) == {"min_size", "max_size"}
    assert e.moves[0].messages


def test_stability_weight_enters_delta():
    """A (current X) moving to Y adds one move at stability weight 0.5."""
    e = explain_unit(_plan(), _problem(stability_weight=0.5), "A")
    assert e.moves[0].delta == pytest.approx(2.5)


def test_unknown_unit_is_a_user_error():
    """Asking about a unit not in the plan is a clear user error, not a KeyError."""
    with pytest.raises(ClusterAssignError, match="'Z'"):
        explain_unit(_plan(), _problem(), "Z")


def test_binding_rules():
    """Sizes at their bounds, zero-tolerance balance and used-up max_moves are binding."""
    problem = _problem(min_size=3, max_size=3, balance={"population": 0.0}, max_moves=2)
    lines = binding_rules(_plan(), problem)
    assert len(lines) == 4
    assert any("max_moves = 2" in line for line in lines)
    loose = _problem(min_size=1, max_size=5, balance={"population": 0.1}, max_moves=3)
    assert binding_rules(_plan(), loose) == []


def test_criterion_shares_split_dispersion():
    """Mixing D into A,B splits the dispersion evenly between function and region."""
    plan = _plan("001011")
    shares = criterion_shares(plan, _problem())
    assert shares == pytest.approx({"function": 0.5, "region": 0.5})


def test_summary_quality_in_both_languages():
    """A FEASIBLE plan states its gap; English wording follows the language."""
    plan = replace(_plan(status=SolveStatus.FEASIBLE, objective=4.0), bound=3.0)
    s = summarize_plan(plan, _problem())
    assert "25" in s.quality and "cận dưới" in s.quality
    with language("en"):
        assert "at most 25 % from optimal" in summarize_plan(plan, _problem()).quality
