"""optimizer.mip_exact: HiGHS proves or beats the incumbent on the exact small model."""

from __future__ import annotations

import threading

import pytest
from helpers import make_problem, make_profiles
from test_bruteforce import brute_force

from optimizer.candidates import full_candidates
from optimizer.data import prepare
from optimizer.mip_exact import mip_applies, solve_mip
from optimizer.model import build_model


def _line(values, pops=None, **rules):
    pops = pops or [10.0 + i for i in range(len(values))]
    rows = [{"unit_id": f"u{i}", "x": float(v), "population": float(p)}
            for i, (v, p) in enumerate(zip(values, pops, strict=True))]
    return make_problem(make_profiles(rows), weights={"x": 1.0}, time_limit_s=20.0, **rules)


def _model(problem, k):
    data = prepare(problem)
    cands = full_candidates(data, k, max_size=problem.rules.max_size, contiguous=False)
    return build_model(problem, k, cands, data=data)


def _cost(am, plan):
    return sum(am.cost[i, m] for i, m in enumerate(plan))


def _mip(am, problem, incumbent, **kw):
    rules = problem.rules
    return solve_mip(am, incumbent, min_size=rules.min_size, max_size=rules.max_size,
                     time_limit=10.0, **kw)


def test_poor_incumbent_is_replaced_by_the_proven_optimum():
    """Two obvious groups of three; the incumbent mixes them; HiGHS returns and proves the split."""
    problem = _line([0, 1, 2, 9, 10, 11], n_clusters=2, min_size=3, max_size=3)
    am = _model(problem, 2)
    res = _mip(am, problem, [1, 1, 4, 1, 4, 4])  # {0, 1, 9} and {2, 10, 11}
    assert res.proven and res.medoid_of == [1, 1, 1, 4, 4, 4]
    assert res.cost == _cost(am, res.medoid_of) == res.bound == brute_force(problem)[2]


def test_optimal_incumbent_is_proven_and_kept():
    problem = _line([0, 1, 2, 9, 10, 11], n_clusters=2, min_size=3, max_size=3)
    am = _model(problem, 2)
    best = [1, 1, 1, 4, 4, 4]
    res = _mip(am, problem, best)
    assert res.proven and res.medoid_of is None
    assert res.bound == _cost(am, best) == brute_force(problem)[2]


def test_band_splits_the_heavy_pair_like_brute_force():
    """Populations 100, 100, 1 … : a band of ±10 % forces units 0 and 1 apart."""
    problem = _line([0, 1, 2, 9, 10, 11], pops=[100, 100, 1, 1, 1, 1], n_clusters=2,
                    min_size=3, max_size=3, balance={"population": 0.1})
    am = _model(problem, 2)
    assert mip_applies(am)
    res = _mip(am, problem, [0, 4, 0, 0, 4, 4])  # {0, 2, 3} and {1, 4, 5}: meets the band
    best = res.cost if res.medoid_of is not None else _cost(am, [0, 4, 0, 0, 4, 4])
    assert res.proven and best == brute_force(problem)[2]
    plan = res.medoid_of or [0, 4, 0, 0, 4, 4]
    assert plan[0] != plan[1]


def test_dropped_pairs_are_never_used():
    problem = _line([0, 1, 2, 9, 10, 11], n_clusters=2, min_size=3, max_size=3)
    am = _model(problem, 2)
    dropped = {(2, 1), (2, 0)}  # unit 2 may not join medoids 0 or 1
    res = _mip(am, problem, [1, 1, 4, 1, 4, 4], dropped=dropped)
    assert res.medoid_of is not None
    assert not {(i, m) for i, m in enumerate(res.medoid_of)} & dropped


def test_a_set_stop_cancels_a_long_run_at_once():
    """63 units, ±10 % population (a proof takes HiGHS ~40 s): a set stop ends it within a second."""
    import time

    from helpers import sample_problem

    from optimizer.search import _seed_labels
    from optimizer.small_exact import heuristic_incumbent

    problem = sample_problem(63, 8, 60.0, with_adjacency=False, balance={"population": 0.10})
    am = _model(problem, 8)
    start = heuristic_incumbent(problem, am, _seed_labels(problem, 8), time.monotonic() + 30)
    assert start is not None
    incumbent = [start[i] for i in range(63)]
    stop = threading.Event()
    stop.set()
    began = time.monotonic()
    res = solve_mip(am, incumbent, min_size=problem.rules.min_size,
                    max_size=problem.rules.max_size, time_limit=60.0, stop=stop)
    assert time.monotonic() - began < 5.0
    assert res.interrupted and not res.proven
    assert res.bound < _cost(am, incumbent)


@pytest.mark.parametrize("extra", [{"together": (("u0", "u5"),)}, {"apart": (("u0", "u1"),)}])
def test_pairwise_rules_stay_with_cp_sat(extra):
    problem = _line([0, 1, 2, 9, 10, 11], n_clusters=2, **extra)
    assert not mip_applies(_model(problem, 2))


def test_no_highs_banner_on_stdout():
    """HiGHS prints a licence banner on its first construction; the plan's stdout must not carry it."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys; sys.path.insert(0, 'tests')\n"
        "from test_mip_exact import _line, _model, _mip\n"
        "problem = _line([0, 1, 2, 9, 10, 11], n_clusters=2, min_size=3, max_size=3)\n"
        "res = _mip(_model(problem, 2), problem, [1, 1, 4, 1, 4, 4])\n"
        "print('proven', res.proven)\n"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "proven True"


def test_sub_mip_heuristics_are_off_only_without_bands():
    """Sizes only: the incumbent is usually optimal and RENS/RINS only delay the proof
    (63 units S seed 2: 4.9 → 3.1 s); with a band they may still find the better plan."""
    from optimizer.mip_exact import _highs

    plain, banded = _highs(5.0, 0, banded=False), _highs(5.0, 0, banded=True)
    for option in ("mip_heuristic_run_rens", "mip_heuristic_run_rins"):
        assert plain.getOptionValue(option)[1] is False
        assert banded.getOptionValue(option)[1] is True


def test_the_incumbent_takes_an_offered_plan_only_when_cheaper(monkeypatch):
    """``heuristic_incumbent(..., offered)`` polishes the offered plan and keeps the cheaper of
    it and its own; with no plan of its own (the start broke the band) the offered one."""
    import time

    from helpers import sample_problem

    import optimizer.construct as construct
    from optimizer.search import _seed_labels
    from optimizer.small_exact import heuristic_incumbent, polished_plan

    problem = sample_problem(63, 8, 60.0, with_adjacency=False, balance={"population": 0.10})
    am = _model(problem, 8)
    seed = _seed_labels(problem, 8)
    deadline = time.monotonic() + 30
    own = heuristic_incumbent(problem, am, seed, deadline)
    own_plan = [own[i] for i in range(63)]
    # its own plan offered back: no cheaper, so the same cost comes back
    again = heuristic_incumbent(problem, am, seed, deadline, offered=own_plan)
    assert _cost(am, [again[i] for i in range(63)]) == _cost(am, own_plan)
    # a plan the medoid descent cannot mend (the k-means seed breaks the band) is not taken
    assert polished_plan(problem, am, seed) is None
    worse = heuristic_incumbent(problem, am, seed, deadline, offered=list(seed))
    assert _cost(am, [worse[i] for i in range(63)]) == _cost(am, own_plan)
    # no plan of its own: the offered one, polished
    real = construct.balanced_start
    monkeypatch.setattr(construct, "balanced_start",
                        lambda *a, **k: (real(*a, **k)[0], 1.0))  # as if the band were broken
    taken = heuristic_incumbent(problem, am, seed, deadline, offered=own_plan)
    assert taken is not None
    assert _cost(am, [taken[i] for i in range(63)]) <= _cost(am, own_plan)
