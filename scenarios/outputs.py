"""Plan outputs: ``assignment.csv``, ``clusters.csv`` and ``plan.json``.

Layouts are the product contract (``spec.md`` "Outputs of plan"; README
"File formats"). Decisions made here, documented in README:

- Cluster numbers in ``assignment.csv``, ``clusters.csv`` and ``plan.json``
  run **1..K** (``Plan`` uses 0..K-1 internally): planners read "Cụm 1", not
  "Cụm 0".
- CSVs are UTF-8 with BOM (Excel opens Vietnamese correctly) and keep the
  units in input order. ``moved`` is ``1``/``0`` and only present when the
  table has a current grouping.
- **Spreadsheet formula neutralising**: a text cell that begins with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return is written with a leading
  ``'`` so Excel shows it as text instead of running it as a formula (CSV
  injection). Numbers are never altered.
- Every file is written atomically (:mod:`scenarios.atomic`); an existing
  non-empty output folder is refused unless ``force`` (then files of the same
  name are replaced and other files are left alone).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import optimizer.objective as objective_module
from features.errors import ClusterAssignError
from features.i18n import register, tr
from optimizer.check import moved_units
from optimizer.errors import InfeasibleError, NoSolutionError
from optimizer.plan import Plan
from optimizer.problem import Problem
from scenarios.atomic import OutputWriteError, atomic_write_text
from scenarios.result import ScenarioResult

register(
    {
        "outputs.exists": {
            "vi": "thư mục kết quả {path} đã có tệp; dùng --force để ghi đè "
            "hoặc chọn thư mục khác bằng -o",
            "en": "output folder {path} is not empty; use --force to overwrite "
            "or choose another folder with -o",
        },
        "outputs.not_dir": {
            "vi": "{path} là một tệp, không phải thư mục",
            "en": "{path} is a file, not a folder",
        },
    }
)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ASSIGNMENT_CSV = "assignment.csv"
CLUSTERS_CSV = "clusters.csv"
PLAN_JSON = "plan.json"
#: Files of a solved plan, removed when a rerun into the same folder finds none.
STALE_WITHOUT_PLAN = (ASSIGNMENT_CSV, CLUSTERS_CSV, "report.html", "report.xlsx")


class OutputExistsError(ClusterAssignError):
    """The output folder holds files and ``--force`` was not given."""

    exit_code = 1


def neutralise(cell: object) -> object:
    """Prefix ``'`` to a text cell Excel would read as a formula; leave numbers."""
    if isinstance(cell, str) and cell.startswith(FORMULA_PREFIXES):
        return "'" + cell
    return cell


def prepare_output_dir(out_dir: Path, *, force: bool = False) -> Path:
    """Accept ``out_dir`` when absent, empty, or ``force``; check before solving.

    Nothing is created here: the folder appears with the first written file,
    so a run that fails on bad input leaves no empty folder behind.
    """
    out_dir = Path(out_dir)
    try:
        if out_dir.exists() and not out_dir.is_dir():
            raise OutputExistsError(tr("outputs.not_dir", path=out_dir))
        if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
            raise OutputExistsError(tr("outputs.exists", path=out_dir))
        _check_creatable(out_dir)
    except OSError as err:  # name too long, permissions: say so before solving
        raise OutputWriteError(
            tr("atomic.cannot_write", path=out_dir, reason=err.strerror or type(err).__name__)
        ) from None
    return out_dir


def _check_creatable(out_dir: Path) -> None:
    """Fail before solving when ``out_dir`` could not be created or written."""
    ancestor = out_dir.absolute()
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise NotADirectoryError(20, os.strerror(20), str(ancestor))
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise PermissionError(13, os.strerror(13), str(ancestor))


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


def _cell(value: object) -> object:
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, float):
        value = round(value, 6)  # drop float-sum noise such as 113612.95999999999
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return neutralise(value)


def _cluster_of(plan: Plan) -> dict[str, int]:
    return dict(plan.assignment.labels)


def _main_category(values: Iterable[object]) -> str:
    counts: Counter[str] = Counter()
    for value in values:
        if isinstance(value, tuple):
            counts.update(value)
        elif isinstance(value, str) and value:
            counts[value] += 1
    if not counts:
        return ""
    return min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def cluster_rows(plan: Plan, problem: Problem) -> list[dict[str, Any]]:
    """One dict per cluster (1-based ``id``), the data of ``plan.json`` ``clusters``.

    Columns are read once as arrays and indexed by position: a label lookup
    per cluster and column took 66 s for 25 000 clusters.
    """
    frame = problem.profiles.frame
    position = {unit: i for i, unit in enumerate(frame.index)}
    numeric = {c: frame[c].to_numpy(dtype=float) for c in problem.profiles.numeric_columns}
    functions, regions = frame["functions"].tolist(), frame["region"].tolist()
    rows = []
    for cluster, members in plan.assignment.parts().items():
        at = [position[unit] for unit in members]
        totals: dict[str, float | None] = {}
        for column, values in numeric.items():
            picked = values[at]
            totals[column] = None if np.isnan(picked).any() else round(float(picked.sum()), 6)
        rows.append(
            {
                "id": cluster + 1,
                "label": plan.cluster_labels[cluster],
                "size": len(members),
                "members": list(members),
                "totals": totals,
                "main_function": _main_category(functions[i] for i in at),
                "main_region": _main_category(regions[i] for i in at),
            }
        )
    return rows


def assignment_csv(plan: Plan, problem: Problem) -> str:
    """Text of ``assignment.csv``: every unit once, in input order."""
    frame = problem.profiles.frame
    labels = _cluster_of(plan)
    header = ["unit_id", "name", "cluster", "cluster_label"]
    moved: set[str] | None = None
    if problem.profiles.has_current:
        header.append("moved")
        moved = set(moved_units(plan, problem))
    rows = []
    for unit in problem.unit_ids:
        cluster = labels[unit]
        row: list[object] = [
            unit,
            frame.at[unit, "name"],
            cluster + 1,
            plan.cluster_labels[cluster],
        ]
        if moved is not None:
            row.append(1 if unit in moved else 0)
        rows.append(row)
    return _csv_text(header, rows)


def clusters_csv(plan: Plan, problem: Problem) -> str:
    """Text of ``clusters.csv``: size, totals and means of scale columns, main function/region."""
    columns = list(problem.profiles.numeric_columns)
    header = ["cluster", "cluster_label", "size", "main_function", "main_region"]
    for column in columns:
        header += [f"{column}_total", f"{column}_mean"]
    rows = []
    for info in cluster_rows(plan, problem):
        row: list[object] = [
            info["id"],
            info["label"],
            info["size"],
            info["main_function"],
            info["main_region"],
        ]
        for column in columns:
            total = info["totals"][column]
            row += [total, None if total is None else total / info["size"]]
        rows.append(["" if v is None else v for v in row])
    return _csv_text(header, rows)


def objective_definition() -> str:
    """The objective's exact definition (:data:`optimizer.objective.OBJECTIVE_DEFINITION`)."""
    return objective_module.OBJECTIVE_DEFINITION


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def plan_document(result: ScenarioResult) -> dict[str, Any]:
    """The content of ``plan.json`` for a solved or failed scenario."""
    problem, plan = result.problem, result.plan
    if plan is None:
        return failure_document(result)
    return {
        "scenario": result.name,
        "status": plan.status.value,
        "objective": _finite(plan.objective),
        "bound": _finite(plan.bound),
        "gap": plan.gap,
        "bound_scope": str(plan.details.get("bound_scope", "unknown")),
        "objective_definition": objective_definition(),
        "interrupted": plan.interrupted,
        "solve_seconds": plan.solve_seconds,
        "n_units": problem.profiles.n_units,
        "n_clusters": plan.n_clusters,
        "metrics": dict(result.metrics),
        "checks": dict(result.checks),
        "notes": list(plan.notes),
        "clusters": [
            {k: info[k] for k in ("id", "label", "size", "members", "totals")}
            for info in cluster_rows(plan, problem)
        ],
        "manifest": result.manifest,
    }


def failure_document(result: ScenarioResult) -> dict[str, Any]:
    """``plan.json`` when there is no plan: the status and the reason."""
    error = result.error
    status = "NO_SOLUTION" if isinstance(error, NoSolutionError) else "INFEASIBLE"
    document: dict[str, Any] = {
        "scenario": result.name,
        "status": status,
        "reason": str(error) if error is not None else "",
        "n_units": result.problem.profiles.n_units,
    }
    if isinstance(error, InfeasibleError):
        document["conflict"] = [str(c) for c in error.conflict]
        document["relaxations"] = [str(r) for r in error.relaxations]
        diagnosis = getattr(error, "diagnosis", None)
        if diagnosis is not None and hasattr(diagnosis, "to_json"):
            document["diagnosis"] = diagnosis.to_json()
    document["manifest"] = result.manifest
    return document


def plan_json(result: ScenarioResult) -> str:
    """Text of ``plan.json`` (UTF-8, Vietnamese kept readable, stable key order)."""
    return (
        json.dumps(plan_document(result), ensure_ascii=False, indent=2, default=str)
        + "\n"
    )


def write_plan_outputs(result: ScenarioResult, out_dir: Path) -> list[Path]:
    """Write the plan files into an already prepared ``out_dir``; return their paths.

    Without a plan only ``plan.json`` (status ``INFEASIBLE`` or
    ``NO_SOLUTION`` with the reason) is written.
    """
    out_dir = Path(out_dir)
    written = []
    if result.plan is not None:
        for name, text in (
            (ASSIGNMENT_CSV, assignment_csv(result.plan, result.problem)),
            (CLUSTERS_CSV, clusters_csv(result.plan, result.problem)),
        ):
            atomic_write_text(out_dir / name, text, encoding="utf-8-sig")
            written.append(out_dir / name)
    atomic_write_text(out_dir / PLAN_JSON, plan_json(result))
    written.append(out_dir / PLAN_JSON)
    if result.plan is None:
        # with --force over an earlier run, its plan files must not outlive it:
        # a report.html of the old plan next to an INFEASIBLE plan.json misleads.
        for name in STALE_WITHOUT_PLAN:
            (out_dir / name).unlink(missing_ok=True)
    return written
