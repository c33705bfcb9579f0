"""One large-neighbourhood search loop: free neighbouring clusters, re-solve them exactly.

Why a module of its own: :func:`optimizer.lns.solve_large` orchestrates the
phases; this is the phase that spends most CP-SAT time on large tables. Each
round frees a cluster and its nearest clusters (about :data:`LNS_UNITS`
units), re-solves that sub-problem with every pair, the whole table's balance
band and the same rules, and keeps the sub-plan when it is better. With a
deterministic-time budget (:mod:`optimizer.budget`) the rounds, their
neighbourhoods (seeded generator) and every sub-solve repeat exactly with one
worker; the wall clock only stops them.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from features.types import FeatureMatrix
from optimizer.budget import DTIME_PER_S, LNS_ROUND_DTIME
from optimizer.candidates import full_candidates
from optimizer.data import ModelData, prepare
from optimizer.model import build_model
from optimizer.objective import COST_SCALE, pair_distances
from optimizer.problem import Problem, Rules

#: An LNS neighbourhood frees about this many units (whole clusters).
LNS_UNITS = 45
#: Time limit of one LNS sub-problem, seconds.
LNS_SUB_LIMIT_S = 2.0


def _sub_problem(
    problem: Problem, data: ModelData, units: list[int], q: int, k: int
) -> tuple[Problem, ModelData]:
    """The problem restricted to ``units`` with ``q`` clusters and the whole table's bands."""
    ids = [problem.unit_ids[i] for i in units]
    idset = set(ids)
    profiles = dataclasses.replace(problem.profiles, frame=problem.profiles.frame.loc[ids])
    fm = problem.features
    features = FeatureMatrix(
        values=np.asarray(fm.values)[units], unit_ids=tuple(ids),
        feature_names=fm.feature_names, groups=fm.groups,
    )
    rules = problem.rules
    sub_rules = Rules(
        n_clusters=q, min_size=rules.min_size, max_size=rules.max_size, balance=rules.balance,
        contiguous=rules.contiguous, one_region=rules.one_region, one_function=rules.one_function,
        together=tuple(g for g in rules.together if set(g) & idset),
        apart=tuple(tuple(u for u in g if u in idset) for g in rules.apart),
        fixed={u: lab for u, lab in rules.fixed.items() if u in idset},
    )
    graph = problem.graph.subgraph(ids).copy() if problem.graph is not None else None
    sub = dataclasses.replace(problem, profiles=profiles, features=features, rules=sub_rules, graph=graph)
    sub_data = prepare(sub)
    balance = tuple(
        dataclasses.replace(col, mean=float(full.values.sum()) / k)
        for col, full in zip(sub_data.balance, data.balance)
    )
    return sub, dataclasses.replace(sub_data, balance=balance)


def lns_rounds(problem, data, k, out, deadline, started, progress, stop, *,
               dtime=None, clock=None) -> tuple[int, int]:
    """Improve ``out`` in place by exact re-solves of neighbouring clusters.

    A sub-plan is kept when it lowers the medoid objective. It runs where the
    local search cannot (contiguity, one_region / one_function, pinned units):
    after the local search the rounds gained nothing at 700, 3 300, 10 000
    and 50 000 units (10, 6, 7 and 72 rounds). With ``dtime`` the rounds
    and sub-solves spend CP-SAT deterministic time (plus
    :data:`~optimizer.budget.LNS_ROUND_DTIME` per round), so one worker repeats
    the same rounds; ``deadline`` is then only a safety stop marked on ``clock``.
    """
    from optimizer.search import ProgressEvent, _search

    rng = np.random.default_rng(problem.settings.seed)
    values = np.asarray(problem.features.values, dtype=np.float64)
    rounds = improved = 0
    fails: dict[int, int] = {}
    det_left = math.inf if dtime is None else dtime
    last_round_s = 0.0
    while det_left > 0 and not (stop is not None and stop.is_set()):
        round_started = time.monotonic()
        # a round's model building is not charged and cannot be stopped: do not
        # start one that the last round's wall time says would end past the
        # deadline (20 000 units, contiguous, 60 s: ~8 s rounds, solve 69.7 s)
        if round_started + last_round_s >= deadline - 0.2:
            if clock is not None and dtime is not None:
                clock.mark()
            break
        medoid_of = out.medoid_of
        clusters: dict[int, list[int]] = {}
        for i, m in enumerate(medoid_of):
            clusters.setdefault(m, []).append(i)
        meds = sorted(clusters)
        centre = np.array([values[m] for m in meds])
        weights = np.array([1.0 / (1 + fails.get(m, 0)) for m in meds])
        pick = int(rng.choice(len(meds), p=weights / weights.sum()))
        order = np.argsort(((centre - centre[pick]) ** 2).sum(axis=1), kind="stable")
        chosen: list[int] = []
        n_units = 0
        for o in order:
            m = meds[int(o)]
            if len(chosen) >= 2 and n_units + len(clusters[m]) > LNS_UNITS:
                break
            chosen.append(m)
            n_units += len(clusters[m])
        if len(chosen) < 2:
            fails[meds[pick]] = fails.get(meds[pick], 0) + 1
            det_left -= LNS_ROUND_DTIME
            if clock is not None:
                clock.charge(LNS_ROUND_DTIME, DTIME_PER_S)
            continue
        units = sorted(i for m in chosen for i in clusters[m])
        local = {u: j for j, u in enumerate(units)}
        sub, sub_data = _sub_problem(problem, data, units, len(chosen), k)
        cands = full_candidates(sub_data, len(chosen), max_size=sub.rules.max_size, contiguous=sub.rules.contiguous)
        am = build_model(sub, len(chosen), cands, data=sub_data)
        before = sum(_cluster_cost(problem, clusters[m], m) for m in chosen)
        sub_hint = {local[i]: local[medoid_of[i]] for i in units}
        if dtime is None:
            sub_deadline = min(deadline, time.monotonic() + LNS_SUB_LIMIT_S)
            res = _search(sub, am, sub_hint, sub_deadline, started, None, stop)
        else:
            det = min(det_left, LNS_SUB_LIMIT_S * DTIME_PER_S)
            res = _search(sub, am, sub_hint, deadline - 0.2, started, None, stop,
                          dtime=det, clock=clock)
            det_left -= res.extra.get("dtime", det) + LNS_ROUND_DTIME
            if clock is not None:
                clock.charge(res.extra.get("dtime", det) + LNS_ROUND_DTIME, DTIME_PER_S)
        rounds += 1
        last_round_s = time.monotonic() - round_started
        better = (res.medoid_of is not None and res.model_cost is not None
                  and res.model_cost < before)
        if better:
            new = list(medoid_of)
            for j, mj in enumerate(res.medoid_of):
                new[units[j]] = units[mj]
            out.medoid_of = new
            out.model_cost = out.model_cost - before + res.model_cost
            improved += 1
            fails.clear()
            if progress is not None:
                progress(ProgressEvent(time.monotonic() - started, out.model_cost / COST_SCALE,
                                       min(out.bound, out.model_cost) / COST_SCALE))
        else:
            fails[meds[pick]] = fails.get(meds[pick], 0) + 1
        if res.interrupted:
            out.interrupted = True
            break
    return rounds, improved


def _cluster_cost(problem: Problem, members: list[int], medoid: int) -> int:
    idx = np.asarray(members, dtype=np.int64)
    return int(pair_distances(problem.features, idx, np.full(len(idx), medoid)).sum())
