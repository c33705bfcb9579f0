"""The current grouping as a start when the cluster count changes (optimizer.move_cost_search).

A planner often asks for more or fewer clusters than last cycle, or adds units
with no current cluster, and still limits or prices the moves; the current
grouping must then still give a plan to start from.
"""

from __future__ import annotations

import pytest
from helpers import make_problem, make_profiles

from features.i18n import language
from features.sample import generate_units
from optimizer.check import check_plan, moved_units
from optimizer.data import prepare
from optimizer.errors import InfeasibleError
from optimizer.move_cost_search import current_labels
from optimizer.precheck import precheck
from optimizer.solve import solve


def _line(xs: list[float], groups: list[str | None], **rules):
    """Units u0, u1, … at positions ``xs`` on one feature, in the given current groups."""
    rows = [{"unit_id": f"u{i}", "size": x, "current_cluster": g}
            for i, (x, g) in enumerate(zip(xs, groups))]
    problem = make_problem(make_profiles(rows), weights={"size": 1.0}, **rules)
    return problem, prepare(problem)


def test_a_new_cluster_starts_from_the_unit_farthest_out_of_the_group_with_most_to_spare():
    """A = {u0…u3} at 0, 0, 1, 5 and B = {u4, u5}; three clusters: A and B keep theirs and
    the third starts from u3, farthest from A's centre (1.5)."""
    problem, data = _line([0, 0, 1, 5, 9, 9], ["A"] * 4 + ["B"] * 2, n_clusters=3)
    assert current_labels(problem, data, 3).tolist() == [0, 0, 0, 2, 1, 1]


def test_fewer_clusters_than_groups_dissolve_the_smallest_into_the_nearest():
    """A = {u0, u1, u2}, B = {u3, u4}, C = {u5}; two clusters: C (one unit, at 8) is
    dissolved and u5 joins B (centre 9), not A (centre 0)."""
    problem, data = _line([0, 0, 0, 9, 9, 8], ["A"] * 3 + ["B"] * 2 + ["C"], n_clusters=2)
    assert current_labels(problem, data, 2).tolist() == [0, 0, 0, 1, 1, 1]


def test_units_with_no_current_group_join_the_nearest_cluster():
    """u2 (at 8) has no current group: it joins B's cluster; with no group at all, None."""
    problem, data = _line([0, 0, 8, 9, 9], ["A", "A", None, "B", "B"], n_clusters=2)
    assert current_labels(problem, data, 2).tolist() == [0, 0, 1, 1, 1]
    problem, data = _line([0, 1], [None, None], n_clusters=2)
    assert current_labels(problem, data, 2) is None


def _sample(k: int, min_size: int, max_size: int, **rules):
    """400 units in their 49 current clusters, population ±60 %, 5 s."""
    frame, _ = generate_units(400, seed=0)
    rows = [{"unit_id": r.unit_id, "function": r.function, "region": r.region, "lat": r.lat,
             "lon": r.lon, "population": float(r.population), "current_cluster": r.current_cluster}
            for _, r in frame.iterrows()]
    return make_problem(make_profiles(rows), weights={"function": 1.0, "location": 1.0},
                        n_clusters=k, min_size=min_size, max_size=max_size,
                        balance={"population": 0.6}, time_limit_s=5.0, **rules)


@pytest.mark.slow
@pytest.mark.parametrize(("k", "min_size", "max_size"), [(60, 5, 8), (40, 8, 12)])
def test_a_move_budget_holds_when_the_cluster_count_changes(k, min_size, max_size):
    """49 current clusters, 60 (or 40) asked for, at most 150 moves: a plan within the budget
    (before: no plan in 5 s either way; the current grouping was a start only at 49)."""
    problem = _sample(k, min_size, max_size, max_moves=150)
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    assert len(moved_units(plan, problem)) <= 150
    assert plan.n_clusters == k


@pytest.mark.slow
def test_a_move_price_can_start_from_the_current_grouping_at_another_count():
    """60 clusters, 2 per move: the priced search starts from the grouping nearest the
    current one and moves far fewer units than the fresh plan would (278 at 49); the bound
    includes the moves every plan must make (it ignored moves: gap 0.98 at 3 300 units)."""
    problem = _sample(60, 5, 8, stability_weight=2.0)
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    assert plan.details.get("stability_start") == "current"
    assert len(moved_units(plan, problem)) < 150
    # the 11 new clusters force 55 moves on every plan: the bound counts them, at 2 each
    assert plan.details.get("bound_forced_moves") == 55
    assert 2.0 * 55 <= plan.bound <= plan.objective


def test_new_clusters_need_moved_units_and_the_precheck_says_how_many():
    """49 → 60 clusters of at least 5: the 11 new clusters hold 55 units that all move, so
    max_moves 50 is refused at once, with the numbers."""
    problem = _sample(60, 5, 8, max_moves=50)
    with language("en"), pytest.raises(InfeasibleError) as err:
        precheck(problem)
    assert "there are 49 current clusters and the scenario asks for 60" in str(err.value)
    assert "11 new clusters of at least 5 units" in str(err.value)
    assert "at least 55 must change" in str(err.value)
    assert err.value.rules == ["max_moves", "count", "size"]
    precheck(_sample(60, 5, 8, max_moves=55))


@pytest.mark.slow
def test_under_one_region_the_current_grouping_is_brought_to_the_count_inside_each_region():
    """The 49 current clusters each lie in one region: 60 asked, one_region, at most 150 moves.
    New clusters are filled and repaired inside their seed's region and the move-budget search
    keeps to regions (before: the repair mixed regions, and the plan came from the restricted
    model — 3 300 units: 4 442.7 against 2 844.8 now)."""
    problem = _sample(60, 5, 8, max_moves=150, one_region=True)
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    assert len(moved_units(plan, problem)) <= 150
    assert plan.details.get("ls_moves", 0) + plan.details.get("ls_swaps", 0) > 0


def test_a_current_start_that_fails_at_the_limit_starts_nothing_more(monkeypatch):
    """Under a move budget the repaired current grouping comes first; when it fails at the
    safety stop the fresh start (LP rounds that cannot stop inside a step) is not begun past
    the limit (10 000 units, 5 s: it ran to 8.4 s and found no plan either): no plan, on time."""
    import time

    import optimizer.lns as lns
    from optimizer.errors import NoSolutionError

    problem = _sample(60, 5, 8, max_moves=150)
    fresh: list[int] = []

    def fails_at_the_limit(problem, data, k, *, clock, **kwargs):
        time.sleep(max(clock.deadline - time.monotonic(), 0.0))
        return None

    def counted(*args, **kwargs):
        fresh.append(1)
        raise AssertionError("the fresh start began past the limit")

    monkeypatch.setattr(lns, "current_start", fails_at_the_limit)
    monkeypatch.setattr(lns, "balanced_start", counted)
    monkeypatch.setattr(lns, "grouped", counted)
    started = time.monotonic()
    with pytest.raises(NoSolutionError):
        solve(problem)
    assert time.monotonic() - started < 5.0 + 1.0
    assert fresh == []


def test_under_a_move_budget_the_current_repair_may_take_most_of_the_time(monkeypatch):
    """The repair of the current grouping stops as soon as the rules hold, so its allowance
    only matters where it needs much: 20 000 units in 2 498 groups of 8 brought to 3 333
    clusters (±115 %, max_moves 15 000, 30 s) stopped at violation 152 with a quarter of the
    time, the fresh plan moved too many units, and no plan came; with 0.6 it plans (8 913.3).
    The early repair now gets over a third of the whole limit in repair work."""
    import optimizer.lns as lns
    from optimizer.budget import REPAIR_WORK_PER_S

    problem = _sample(60, 5, 8, max_moves=150)
    allowances: list[int] = []
    real = lns.current_start

    def spy(*args, max_work, **kwargs):
        allowances.append(max_work)
        return real(*args, max_work=max_work, **kwargs)

    monkeypatch.setattr(lns, "current_start", spy)
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    assert allowances[0] >= 0.35 * problem.settings.time_limit_s * REPAIR_WORK_PER_S
