"""Tiny hand-made builders of ``Profiles``, ``Problem`` and ``Plan`` for tests.

They build the validated types directly (following the layout documented in
``features.types.Profiles``) so optimizer and scenario tests do not depend on
the file loader. Import with ``from helpers import ...`` (pytest puts
``tests/`` on ``sys.path``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from features.engineer import build_features
from features.graph import build_adjacency_graph
from features.types import Profiles, UnitId
from optimizer.plan import Assignment, Plan, SolveStatus
from optimizer.problem import Problem, Rules, SolverSettings

ROLE_COLUMNS = ("name", "functions", "region", "lat", "lon", "current_cluster")


def make_profiles(
    rows: Sequence[Mapping[str, Any]], *, source: str = "units.csv"
) -> Profiles:
    """Profiles from dict rows: ``unit_id`` required; ``name``, ``function``
    (``"a;b"`` text or a tuple), ``region``, ``lat``, ``lon``, ``current_cluster``
    optional; every other key is a scale column (``None`` = empty cell).
    """
    records = []
    numeric: list[str] = []
    for row in rows:
        for key in row:
            if key not in ("unit_id", "function", *ROLE_COLUMNS) and key not in numeric:
                numeric.append(key)
    for row in rows:
        function = row.get("function", ())
        if isinstance(function, str):
            function = tuple(f.strip() for f in function.split(";") if f.strip())
        record: dict[str, Any] = {
            "unit_id": str(row["unit_id"]),
            "name": str(row.get("name", row["unit_id"])),
            "functions": tuple(function or ()),
            "region": row.get("region") or None,
            "lat": float(row["lat"]) if row.get("lat") is not None else np.nan,
            "lon": float(row["lon"]) if row.get("lon") is not None else np.nan,
            "current_cluster": row.get("current_cluster") or None,
        }
        for column in numeric:
            value = row.get(column)
            record[column] = float(value) if value is not None else np.nan
        records.append(record)
    frame = pd.DataFrame.from_records(
        records, columns=["unit_id", *ROLE_COLUMNS, *numeric]
    )
    frame = frame.set_index("unit_id")
    frame["functions"] = frame["functions"].astype(object)
    for column in ("region", "current_cluster"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    for column in ("lat", "lon", *numeric):
        frame[column] = frame[column].astype(np.float64)
    return Profiles(
        frame=frame,
        numeric_columns=tuple(numeric),
        source=source,
        row_of={u: i + 2 for i, u in enumerate(frame.index)},
        has_location=bool(frame["lat"].notna().all()) and len(frame) > 0,
        has_current=bool(frame["current_cluster"].notna().any()),
    )


def make_problem(
    profiles: Profiles,
    *,
    weights: Mapping[str, float] | None = None,
    pairs: Iterable[tuple[UnitId, UnitId]] | None = None,
    name: str = "test",
    seed: int = 0,
    time_limit_s: float = 10.0,
    **rules: Any,
) -> Problem:
    """Problem over ``profiles``; ``rules`` are ``Rules`` fields (default ``n_clusters=2``).

    ``weights`` default to every scale column with weight 1; ``pairs`` build
    the adjacency graph (None = no graph).
    """
    if "n_clusters" not in rules and "min_count" not in rules:
        rules["n_clusters"] = 2
    if weights is None:
        weights = {c: 1.0 for c in profiles.numeric_columns}
    graph = None if pairs is None else build_adjacency_graph(profiles.unit_ids, pairs)
    return Problem(
        name=name,
        profiles=profiles,
        features=build_features(profiles, weights),
        rules=Rules(**rules),
        settings=SolverSettings(time_limit_s=time_limit_s, seed=seed, num_workers=1),
        graph=graph,
    )


def make_plan(
    labels: Mapping[UnitId, int] | Sequence[int],
    *,
    unit_ids: Sequence[UnitId] | None = None,
    cluster_labels: Sequence[str] | None = None,
    status: SolveStatus = SolveStatus.OPTIMAL,
    objective: float = 0.0,
) -> Plan:
    """Plan from a unit->cluster mapping, or a label list in ``unit_ids`` order.

    ``cluster_labels`` default to ``"Cụm 1"``, ``"Cụm 2"``… for ids 0..max.
    """
    if not isinstance(labels, Mapping):
        if unit_ids is None:
            raise ValueError("a label sequence needs unit_ids")
        labels = dict(zip(unit_ids, (int(c) for c in labels), strict=True))
    if cluster_labels is None:
        n = max(labels.values(), default=-1) + 1
        cluster_labels = [f"Cụm {c + 1}" for c in range(n)]
    return Plan(
        assignment=Assignment(labels=dict(labels)),
        cluster_labels=tuple(cluster_labels),
        status=status,
        objective=objective,
        bound=objective,
        solve_seconds=0.0,
        seed=0,
    )


def units_ok_small() -> Profiles:
    """Six units, two obvious clusters of three (west = schools, east = hospitals).

    ::

        A(0,0)─B(0,1)─C(0,2)   D(0,10)─E(0,11)─F(0,12)
        school, North          hospital, South
        pop 100 200 300         pop 100 200 300
        current: X X Y          current: Y Y X

    Adjacency is the two paths drawn (A-B-C, D-E-F) plus C-D.
    """
    rows = []
    for uid, lon, fn, reg, pop, cur in [
        ("A", 0, "school", "North", 100, "X"),
        ("B", 1, "school", "North", 200, "X"),
        ("C", 2, "school", "North", 300, "Y"),
        ("D", 10, "hospital", "South", 100, "Y"),
        ("E", 11, "hospital", "South", 200, "Y"),
        ("F", 12, "hospital", "South", 300, "X"),
    ]:
        rows.append(
            {
                "unit_id": uid,
                "function": fn,
                "region": reg,
                "lat": 0.0,
                "lon": float(lon),
                "current_cluster": cur,
                "population": pop,
            }
        )
    return make_profiles(rows)


#: Adjacency of :func:`units_ok_small`.
UNITS_OK_SMALL_PAIRS = [("A", "B"), ("B", "C"), ("C", "D"), ("D", "E"), ("E", "F")]


def sample_problem(
    n_units: int,
    n_clusters: int,
    time_limit_s: float,
    *,
    seed: int = 0,
    with_adjacency: bool = True,
    weights: dict[str, float] | None = None,
    **rules: Any,
) -> Problem:
    """A ``features.sample`` table as a Problem with the benchmark's size bounds.

    Sizes within ``[⌊N/K⌋ − 1, ⌈N/K⌉ + 1]``, similarity on function, location
    and population (weight 1 each) unless ``weights`` says otherwise; extra
    ``rules`` pass to :func:`make_problem`.
    """
    from features.sample import generate_units

    frame, pairs = generate_units(n_units, seed=seed)
    rows = [
        {"unit_id": r.unit_id, "name": r["name"], "function": r.function,
         "region": r.region, "lat": r.lat, "lon": r.lon,
         "population": float(r.population)}
        for _, r in frame.iterrows()
    ]
    lo, hi = n_units // n_clusters - 1, -(-n_units // n_clusters) + 1
    return make_problem(
        make_profiles(rows),
        weights=weights or {"function": 1.0, "location": 1.0, "population": 1.0},
        pairs=pairs if with_adjacency else None,
        n_clusters=n_clusters, min_size=lo, max_size=hi,
        time_limit_s=time_limit_s, seed=seed, **rules,
    )


def current_grouping_problem(max_moves: int, **rules: Any) -> tuple[Any, int, Problem]:
    """400 units in their 49 current clusters (sizes 6–10), population ±60 %."""
    from features.sample import generate_units

    frame, _ = generate_units(400, seed=0)
    rows = [{"unit_id": r.unit_id, "function": r.function, "region": r.region, "lat": r.lat,
             "lon": r.lon, "population": float(r.population), "current_cluster": r.current_cluster}
            for _, r in frame.iterrows()]
    k = frame.current_cluster.nunique()
    problem = make_problem(make_profiles(rows), weights={"function": 1.0, "location": 1.0},
                           n_clusters=k, min_size=6, max_size=10, balance={"population": 0.6},
                           max_moves=max_moves, time_limit_s=5.0, **rules)
    return frame, k, problem


def banded_plan(n: int = 240, k: int = 12) -> tuple[Problem, Any, np.ndarray]:
    """A sample problem with ±10 % population bands and a plan meeting them after descent.

    The starting point of the band phases (regional restarts, annealing): the
    balanced start followed by the local search, as the large path runs them.
    """
    import time

    from optimizer.construct import balanced_start
    from optimizer.data import prepare
    from optimizer.local_search import improve
    from optimizer.search import _seed_labels

    problem = sample_problem(n, k, 10.0, with_adjacency=False, balance={"population": 0.10})
    data = prepare(problem)
    far = time.monotonic() + 1e6
    labels, violation = balanced_start(problem, data, k, _seed_labels(problem, k), far,
                                       seconds=5.0)
    assert violation == 0.0
    labels, _ = improve(problem, data, k, labels, deadline=far)
    return problem, data, np.asarray(labels)


def sizes_and_band_hold(problem: Problem, data: Any, labels: np.ndarray, k: int) -> bool:
    """Sizes and the first balance band (the raw rule, without the search's margins)."""
    rules = problem.rules
    size = np.bincount(labels, minlength=k)
    lo, hi = data.balance[0].band(k)
    totals = np.bincount(labels, weights=data.balance[0].values, minlength=k)
    return bool((size >= rules.min_size).all() and (size <= rules.max_size).all()
                and (totals >= lo).all() and (totals <= hi).all())


def roomy_deadline(monkeypatch: Any, extra_s: float = 60.0) -> None:
    """Give the large path's wall-clock safety stop ``extra_s`` more, the nominal time unchanged.

    The phases end on work allowances derived from the nominal time; the
    deadline only stops them. A run it cuts (another ``pytest -n 2`` worker's
    solves slowing this one) proves nothing about what a test checks of the
    phases, so such tests move the safety stop out of the way.
    """
    from optimizer import lns

    real = lns.solve_large

    def roomy(problem, data, k, seed_labels, hint, deadline, *args, **kwargs):
        return real(problem, data, k, seed_labels, hint, deadline + extra_s, *args, **kwargs)

    monkeypatch.setattr(lns, "solve_large", roomy)


def ctrl_c_on_call(monkeypatch: Any, module: Any, name: str, call: int) -> list[dict]:
    """Make ``module.<name>`` raise KeyboardInterrupt on its ``call``-th call (once).

    Returns each call's keyword arguments. How the Ctrl-C tests put a key press
    at a chosen point of a phase that has no stop checks.
    """
    real, calls = getattr(module, name), []

    def once(*args, **kwargs):
        calls.append(kwargs)
        if len(calls) == call:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, once)
    return calls


def balanced_by_total(p: np.ndarray, k: int) -> np.ndarray:
    """Largest first, each unit to the lightest cluster not yet full: ``n/k`` units each, totals close."""
    size = len(p) // k
    totals, counts = np.zeros(k), np.zeros(k, dtype=np.int64)
    labels = np.empty(len(p), dtype=np.int64)
    for i in np.argsort(-p, kind="stable"):
        open_ = np.nonzero(counts < size)[0]
        c = open_[np.argmin(totals[open_])]
        labels[i], totals[c], counts[c] = c, totals[c] + p[i], counts[c] + 1
    return labels
