"""Load a plan that was already solved (a ``cumkhoi plan`` output folder).

Comparing last week's approved plan with today's alternatives must not mean
solving it again (a different seed or time limit could change it). The folder
holds ``plan.json`` (status, objective, bound, metrics, checks and the
manifest with the resolved scenario and input hashes) and ``assignment.csv``
(the cluster of every unit). The scenario is rebuilt from the manifest, the
unit table re-read, and its SHA-256 checked against the manifest, so a
comparison never pairs a plan with data it was not made from.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from features.i18n import register, tr
from optimizer.check import check_plan
from optimizer.errors import InfeasibleError, NoSolutionError
from optimizer.plan import Assignment, Plan, SolveStatus
from scenarios.definition import build_problem, scenario_from_dict
from scenarios.errors import ScenarioError
from scenarios.manifest import sha256_of
from scenarios.result import ScenarioResult

register(
    {
        "solved.missing": {
            "vi": "{path}: thiếu tệp {file}; thư mục này không phải kết quả của 'cumkhoi plan'",
            "en": "{path}: {file} is missing; this folder is not a 'cumkhoi plan' output",
        },
        "solved.bad_json": {
            "vi": "{path}: plan.json hỏng hoặc thiếu mục '{key}'",
            "en": "{path}: plan.json is damaged or lacks '{key}'",
        },
        "solved.changed": {
            "vi": "{path}: tệp {file} đã thay đổi kể từ khi giải phương án này "
            "(mã băm khác); hãy giải lại",
            "en": "{path}: {file} has changed since this plan was solved "
            "(hash differs); solve it again",
        },
        "solved.breaks_rules": {
            "vi": "{path}: assignment.csv không còn thỏa các quy tắc của kịch bản (đã bị sửa tay?): "
            "{detail}; hãy giải lại",
            "en": "{path}: assignment.csv no longer satisfies the scenario's rules (edited by "
            "hand?): {detail}; solve it again",
        },
        "solved.bad_assignment": {
            "vi": "{path}: assignment.csv không khớp bảng đơn vị ({detail})",
            "en": "{path}: assignment.csv does not match the unit table ({detail})",
        },
    }
)

PLAN_JSON = "plan.json"
ASSIGNMENT_CSV = "assignment.csv"


def is_solved_dir(path: Path) -> bool:
    """True when ``path`` is a folder holding a ``plan.json``."""
    return Path(path).is_dir() and (Path(path) / PLAN_JSON).is_file()


def _read_json(path: Path) -> dict[str, Any]:
    file = path / PLAN_JSON
    if not file.is_file():
        raise ScenarioError(tr("solved.missing", path=path, file=PLAN_JSON))
    try:
        doc = json.loads(file.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise ScenarioError(tr("solved.bad_json", path=path, key="{}")) from None
    for key in ("scenario", "status", "manifest"):
        if not isinstance(doc, dict) or key not in doc:
            raise ScenarioError(tr("solved.bad_json", path=path, key=key))
    if not isinstance(doc["manifest"], dict):  # hand-edited: "manifest": "x" crashed explain
        raise ScenarioError(tr("solved.bad_json", path=path, key="manifest"))
    return doc


def _check_hashes(path: Path, manifest: dict[str, Any]) -> None:
    for role, info in sorted((manifest.get("inputs") or {}).items()):
        if role == "scenario" or not isinstance(info, dict):
            continue  # the scenario text lives in the manifest itself
        file = Path(str(info.get("path", "")))
        if not file.is_file() or sha256_of(file) != info.get("sha256"):
            raise ScenarioError(tr("solved.changed", path=path, file=file))


def _read_assignment(
    path: Path, unit_ids: tuple[str, ...]
) -> dict[str, tuple[int, str]]:
    file = path / ASSIGNMENT_CSV
    if not file.is_file():
        raise ScenarioError(tr("solved.missing", path=path, file=ASSIGNMENT_CSV))
    text = file.read_text(encoding="utf-8-sig")
    rows: dict[str, tuple[int, str]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        try:
            rows[row["unit_id"]] = (int(row["cluster"]), row["cluster_label"])
        except (KeyError, TypeError, ValueError):
            raise ScenarioError(
                tr(
                    "solved.bad_assignment",
                    path=path,
                    detail="unit_id, cluster, cluster_label",
                )
            ) from None
    missing = sorted(set(unit_ids) - set(rows))
    extra = sorted(set(rows) - set(unit_ids))
    if missing or extra:
        detail = ", ".join(missing[:5] + extra[:5])
        raise ScenarioError(tr("solved.bad_assignment", path=path, detail=detail))
    return rows


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def load_solved(path: Path) -> ScenarioResult:
    """Rebuild the :class:`ScenarioResult` of a ``cumkhoi plan`` output folder.

    Parameters
    ----------
    path
        The folder (``plan.json`` + ``assignment.csv``).

    Returns
    -------
    ScenarioResult
        With the stored status, objective, bound, metrics and checks; the
        problem rebuilt from the manifest's scenario. Infeasible folders give
        ``plan=None`` and the stored reason.

    Raises
    ------
    ScenarioError
        Missing or damaged files, or input data changed since the plan was made.
    """
    path = Path(path)
    doc = _read_json(path)
    manifest = doc["manifest"]
    scenario = manifest.get("scenario")
    if not isinstance(scenario, dict):
        raise ScenarioError(tr("solved.bad_json", path=path, key="manifest.scenario"))
    _check_hashes(path, manifest)
    source = manifest.get("scenario_file")
    spec = scenario_from_dict(
        scenario,
        source=Path(source) if source else None,
        default_name=str(doc["scenario"]),
    )
    problem = build_problem(spec)
    if doc["status"] not in ("OPTIMAL", "FEASIBLE"):
        reason = str(doc.get("reason", ""))
        error = (
            NoSolutionError(reason)
            if doc["status"] == "NO_SOLUTION"
            else InfeasibleError(
                reason, conflict=doc.get("conflict"), relaxations=doc.get("relaxations")
            )
        )
        return ScenarioResult(
            spec=spec, problem=problem, plan=None, manifest=manifest, error=error
        )
    rows = _read_assignment(path, problem.unit_ids)
    ids = sorted({c for c, _ in rows.values()})
    index = {c: i for i, c in enumerate(ids)}  # files number clusters 1..K
    labels_by_id = {c: lab for c, lab in rows.values()}
    try:  # a hand-edited plan.json ("objective": "abc", "metrics": [1]) is a damaged file
        plan = Plan(
            assignment=Assignment(labels={u: index[rows[u][0]] for u in problem.unit_ids}),
            cluster_labels=tuple(labels_by_id[c] for c in ids),
            status=SolveStatus(doc["status"]),
            objective=_float(doc.get("objective")),
            bound=_float(doc.get("bound")),
            solve_seconds=float(doc.get("solve_seconds") or 0.0),
            seed=int(manifest.get("seed") or 0),
            interrupted=bool(doc.get("interrupted", False)),
            notes=tuple(doc.get("notes") or ()),
            details={"bound_scope": str(doc.get("bound_scope", "unknown"))},
        )
        violations = check_plan(plan, problem)  # the file may have been edited since
        if violations:
            detail = "; ".join(v.message for v in violations[:3])
            raise ScenarioError(tr("solved.breaks_rules", path=path, detail=detail))
        return ScenarioResult(
            spec=spec,
            problem=problem,
            plan=plan,
            metrics={
                k: float(v) for k, v in (doc.get("metrics") or {}).items() if v is not None
            },
            checks=dict(doc.get("checks") or {}),
            manifest=manifest,
        )
    except (TypeError, ValueError, AttributeError):
        raise ScenarioError(
            tr("solved.bad_json", path=path, key="status/objective/bound/metrics/checks")
        ) from None
