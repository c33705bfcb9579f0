"""Tiny hand-made results for the comparison and report tests (no solver needed).

Six units on a 2×3 grid, two regions, a current grouping of two clusters::

    lat 21  01 ─ 02 ─ 03      region Bắc,  current "Cụm A"
            │    │    │
    lat 20  04 ─ 05 ─ 06      region Nam,  current "Cụm B"
          lon 105 106 107

Unit 04 is named "=SUM(A1:A2)" so spreadsheets must store it as text, and
unit 06 "<b>Hà Giang</b>" so HTML must escape it.
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx
import numpy as np
import pandas as pd

from features.errors import ClusterAssignError
from features.types import FeatureMatrix, Profiles
from optimizer.errors import InfeasibleError
from optimizer.plan import Assignment, Plan, SolveStatus
from optimizer.problem import Problem, Rules, SolverSettings
from scenarios.result import ScenarioResult

UNITS = ("01", "02", "03", "04", "05", "06")
NAMES = (
    "Hà Nội",
    "Hải Phòng",
    "Quảng Ninh",
    "=SUM(A1:A2)",
    "Cần Thơ",
    "<b>Hà Giang</b>",
)
POPULATION = (8.0, 2.0, 1.0, 1.0, 3.0, 1.0)
EDGES = (
    ("01", "02"),
    ("02", "03"),
    ("04", "05"),
    ("05", "06"),
    ("01", "04"),
    ("02", "05"),
    ("03", "06"),
)


def profiles() -> Profiles:
    """The six-unit table with functions, regions, coordinates and current grouping."""
    frame = pd.DataFrame(
        {
            "name": list(NAMES),
            "functions": [
                ("tỉnh",),
                ("thành phố",),
                ("tỉnh",),
                ("tỉnh",),
                ("thành phố",),
                ("tỉnh",),
            ],
            "region": ["Bắc", "Bắc", "Bắc", "Nam", "Nam", "Nam"],
            "lat": [21.0, 21.0, 21.0, 20.0, 20.0, 20.0],
            "lon": [105.0, 106.0, 107.0, 105.0, 106.0, 107.0],
            "current_cluster": ["Cụm A"] * 3 + ["Cụm B"] * 3,
            "population": list(POPULATION),
        },
        index=pd.Index(list(UNITS), name="unit_id"),
    )
    return Profiles(
        frame=frame,
        numeric_columns=("population",),
        source="units.csv",
        row_of={u: i + 2 for i, u in enumerate(UNITS)},
        has_location=True,
        has_current=True,
    )


def problem(
    name: str,
    *,
    n_clusters: int = 2,
    balance: Mapping[str, float] | None = None,
    contiguous: bool = False,
) -> Problem:
    """A Problem over the six units with the given rules."""
    prof = profiles()
    features = FeatureMatrix(
        values=np.log(np.asarray(POPULATION)).reshape(-1, 1),
        unit_ids=UNITS,
        feature_names=("population",),
        groups={"population": (0,)},
    )
    graph = nx.Graph()
    graph.add_nodes_from(UNITS)
    graph.add_edges_from(EDGES)
    return Problem(
        name=name,
        profiles=prof,
        features=features,
        rules=Rules(
            n_clusters=n_clusters,
            min_size=2,
            max_size=4,
            balance=dict(balance or {"population": 0.2}),
            contiguous=contiguous,
        ),
        settings=SolverSettings(time_limit_s=5, seed=0),
        graph=graph,
    )


def result(
    name: str,
    labels: Mapping[str, int] | None,
    *,
    cluster_labels: tuple[str, ...] = ("Cụm A", "Cụm B"),
    metrics: Mapping[str, float] | None = None,
    status: SolveStatus = SolveStatus.OPTIMAL,
    error: ClusterAssignError | None = None,
    checks: Mapping[str, str] | None = None,
) -> ScenarioResult:
    """A ScenarioResult; ``labels`` None makes it infeasible with ``error``."""
    prob = problem(name, n_clusters=len(cluster_labels))
    plan = None
    if labels is not None:
        plan = Plan(
            assignment=Assignment(labels=dict(labels)),
            cluster_labels=cluster_labels,
            status=status,
            objective=1.5,
            bound=1.5 if status is SolveStatus.OPTIMAL else 1.2,
            solve_seconds=0.25,
            seed=0,
        )
    elif error is None:
        error = InfeasibleError("quy mô cụm tối đa 4 quá nhỏ cho 6 đơn vị")
    return ScenarioResult(
        spec=None,  # type: ignore[arg-type]
        problem=prob,
        plan=plan,
        metrics=dict(metrics or {}),
        checks=dict(
            checks or ({"size": "ok", "balance:population": "ok"} if plan else {})
        ),
        manifest={
            "scenario": name,
            "seed": 0,
            "inputs": {"units.csv": "sha256:abc"},
            "versions": {"cumkhoi": "0.1.0", "ortools": "9.15"},
        },
        error=error,
    )


#: current grouping: rows of the grid
ROWS = {"01": 0, "02": 0, "03": 0, "04": 1, "05": 1, "06": 1}
#: columns 1 | 2-3 of the grid
COLS = {"01": 0, "04": 0, "02": 1, "03": 1, "05": 1, "06": 1}
