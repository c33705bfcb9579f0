"""``cumkhoi explain DIR [--unit ID]``: why a plan is as it is, or why it cannot exist.

Reads a folder written by ``cumkhoi plan`` (``plan.json`` + ``assignment.csv``;
the scenario is rebuilt from the manifest and the input hashes checked by
:func:`scenarios.solved.load_solved`) and prints, in Vietnamese or English:

* without ``--unit``: the quality of the plan (optimal, or its gap), the rules
  that are binding, the criteria that drove the grouping, and one line per
  cluster (description and max/min spread of each scale figure);
* with ``--unit ID``: that unit's cluster, the criteria that tie it there,
  and the cost of moving it to the next-best clusters;
* for an infeasible folder: the conflicting rules and the verified
  relaxations stored in ``plan.json`` (diagnosed now when the folder has none).

Explaining succeeds (exit 0) even for an infeasible folder: the explanation is
the result. A unit not in the plan exits 1.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from features.i18n import register, tr
from optimizer.describe import describe_plan, format_number, scale_spread
from optimizer.diagnose import DiagnosedInfeasibleError, explain_infeasible
from optimizer.errors import InfeasibleError
from optimizer.explain import (
    UnitExplanation,
    explain_unit,
    summarize_plan,
    unit_verdict,
)
from optimizer.plan import Plan
from optimizer.problem import Problem
from optimizer.rule_instances import unit_text
from scenarios.cli_common import (
    command,
    lang_option,
    option,
    print_json,
    stdout_console,
)
from scenarios.result import ScenarioResult
from scenarios.solved import load_solved

__all__ = ["explain", "explain_infeasible"]

register(
    {
        "cli_explain.help": {
            "vi": "Giải thích phương án trong DIR (kết quả của 'cumkhoi plan'): quy tắc nào "
            "đang chặt, tiêu chí nào quyết định, vì sao một đơn vị ở cụm của nó; hoặc vì sao "
            "kịch bản không khả thi và cách nới lỏng.",
            "en": "Explain the plan in DIR (a 'cumkhoi plan' output): which rules bind, which "
            "criteria drove it, why a unit is in its cluster; or why the scenario is "
            "infeasible and how to relax it.",
        },
        "cli_explain.opt_unit": {
            "vi": "Mã đơn vị cần giải thích.",
            "en": "Id of the unit to explain.",
        },
        "cli_explain.title": {"vi": "Phương án '{name}'", "en": "Plan '{name}'"},
        "cli_explain.binding": {"vi": "Quy tắc đang chặt", "en": "Binding rules"},
        "cli_explain.drivers": {
            "vi": "Tiêu chí quyết định cách chia",
            "en": "What drove the grouping",
        },
        "cli_explain.criterion": {"vi": "Tiêu chí", "en": "Criterion"},
        "cli_explain.share": {"vi": "Tỉ trọng phân tán", "en": "Share of dispersion"},
        "cli_explain.clusters": {"vi": "Các cụm", "en": "Clusters"},
        "cli_explain.cluster": {"vi": "Cụm", "en": "Cluster"},
        "cli_explain.size": {"vi": "Số đơn vị", "en": "Units"},
        "cli_explain.description": {"vi": "Mô tả", "en": "Description"},
        "cli_explain.spread": {
            "vi": "Chênh lệch trong cụm (lớn nhất / nhỏ nhất)",
            "en": "Spread inside each cluster (largest / smallest)",
        },
        "cli_explain.unit_title": {
            "vi": "{unit} thuộc cụm '{label}' ({size} đơn vị; đơn vị tiêu biểu: {medoid})",
            "en": "{unit} is in cluster '{label}' ({size} units; most typical unit: {medoid})",
        },
        "cli_explain.ties": {
            "vi": "Điều gắn đơn vị với cụm (tỉ lệ < 1: gần các thành viên hơn mức chung)",
            "en": "What ties it there (ratio < 1: closer to members than to units overall)",
        },
        "cli_explain.nearest": {"vi": "Thành viên gần nhất", "en": "Nearest members"},
        "cli_explain.ratio": {"vi": "Tỉ lệ", "en": "Ratio"},
        "cli_explain.shared": {
            "vi": "Cùng vùng: {r}/{n} thành viên khác; cùng chức năng: {f}/{n}.",
            "en": "Same region: {r}/{n} other members; same function: {f}/{n}.",
        },
        "cli_explain.moves": {
            "vi": "Chuyển sang cụm khác thì sao",
            "en": "What moving it would cost",
        },
        "cli_explain.delta": {
            "vi": "Thay đổi mục tiêu (+ = kém hơn)",
            "en": "Objective change (+ = worse)",
        },
        "cli_explain.broken": {"vi": "Quy tắc bị vi phạm", "en": "Rules broken"},
        "cli_explain.none": {"vi": "không", "en": "none"},
        "cli_explain.infeasible": {
            "vi": "Kịch bản '{name}' không có phương án ({status}).",
            "en": "Scenario '{name}' has no plan ({status}).",
        },
        "cli_explain.conflict": {
            "vi": "Các quy tắc xung đột",
            "en": "Conflicting rules",
        },
        "cli_explain.relaxations": {
            "vi": "Cách nới lỏng đã kiểm chứng",
            "en": "Verified relaxations",
        },
    }
)


def _unit_label(unit: str, problem: Problem) -> str:
    return unit_text(unit, problem)


def _spread_text(value: float) -> str:
    if math.isnan(value):
        return "–"
    if math.isinf(value):
        return "∞"
    return format_number(value, decimals=1)


#: Scale columns shown in the spread table at most (balance columns first).
MAX_SPREAD_COLUMNS = 4


def key_columns(problem: Problem) -> list[str]:
    """Scale columns worth showing: balanced ones, then those weighted for similarity."""
    numeric = problem.profiles.numeric_columns
    chosen = [c for c in problem.rules.balance if c in numeric]
    chosen += [c for c in problem.features.groups if c in numeric and c not in chosen]
    chosen += [c for c in numeric if c not in chosen]
    return chosen[:MAX_SPREAD_COLUMNS]


def _bound_scope(directory: Path) -> str:
    """``bound_scope`` recorded in ``plan.json`` ("full" when absent)."""
    import json

    try:
        doc = json.loads((directory / "plan.json").read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return "full"
    return str(doc.get("bound_scope") or "full")


def _summary_payload(
    plan: Plan, problem: Problem, bound_scope: str = "full"
) -> dict[str, Any]:
    summary = summarize_plan(plan, problem, bound_scope=bound_scope)
    columns = key_columns(problem)
    descriptions = describe_plan(plan, problem.profiles, columns)
    spread = scale_spread(plan, problem.profiles, columns)
    parts = plan.assignment.parts()
    return {
        "status": summary.status.value,
        "objective": summary.objective,
        "bound": summary.bound,
        "gap": summary.gap,
        "quality": summary.quality,
        "binding": list(summary.binding),
        "drivers": dict(summary.drivers),
        "clusters": [
            {
                "id": c,
                "label": plan.cluster_labels[c],
                "size": len(parts[c]),
                "description": descriptions[c],
                "spread": {
                    k: (None if math.isnan(v) else v) for k, v in spread[c].items()
                },
            }
            for c in parts
        ],
    }


def _print_summary(result: ScenarioResult, plan: Plan, bound_scope: str) -> None:
    console = stdout_console()
    data = _summary_payload(plan, result.problem, bound_scope)
    console.print(tr("cli_explain.title", name=result.name), style="bold")
    console.print(data["quality"])
    console.print("\n" + tr("cli_explain.binding"), style="bold")
    for line in data["binding"] or [tr("explain.nothing_binding")]:
        console.print(f"  - {line}", markup=False)
    drivers = Table(title=tr("cli_explain.drivers"), title_justify="left")
    drivers.add_column(tr("cli_explain.criterion"))
    drivers.add_column(tr("cli_explain.share"), justify="right")
    for criterion, share in data["drivers"].items():
        drivers.add_row(criterion, format_number(share * 100, decimals=1) + " %")
    console.print(drivers)
    console.print(tr("cli_explain.clusters"), style="bold")
    for row in data["clusters"]:
        console.print(f"  {row['label']}: {row['description']}", markup=False)
    columns = key_columns(result.problem)
    table = Table(title=tr("cli_explain.spread"), title_justify="left")
    table.add_column(tr("cli_explain.cluster"))
    for column in columns:
        table.add_column(column, justify="right")
    for row in data["clusters"]:
        spreads = [_spread_text(row["spread"].get(c) or math.nan) for c in columns]
        table.add_row(row["label"], *spreads)
    console.print(table)


def _unit_payload(e: UnitExplanation, problem: Problem) -> dict[str, Any]:
    return {
        "unit": e.unit,
        "name": e.name,
        "cluster": e.cluster,
        "label": e.label,
        "medoid": e.medoid,
        "cluster_size": e.cluster_size,
        "ties": [
            {
                "criterion": t.criterion,
                "nearest": [list(n) for n in t.nearest],
                "ratio": t.ratio,
            }
            for t in e.ties
        ],
        "verdict": unit_verdict(e),
        "same_region": list(e.same_region),
        "same_function": list(e.same_function),
        "moves": [
            {
                "cluster": m.cluster,
                "label": m.label,
                "delta": m.delta,
                "broken": list(m.broken),
                "messages": list(m.messages),
            }
            for m in e.moves
        ],
    }


def _print_unit(e: UnitExplanation, problem: Problem) -> None:
    console = stdout_console()
    console.print(
        tr(
            "cli_explain.unit_title",
            unit=_unit_label(e.unit, problem),
            label=e.label,
            size=e.cluster_size,
            medoid=_unit_label(e.medoid, problem),
        ),
        style="bold",
    )
    others = e.cluster_size - 1
    console.print(
        tr("cli_explain.shared", r=len(e.same_region), f=len(e.same_function), n=others)
    )
    ties = Table(title=tr("cli_explain.ties"), title_justify="left")
    ties.add_column(tr("cli_explain.criterion"))
    ties.add_column(tr("cli_explain.nearest"))
    ties.add_column(tr("cli_explain.ratio"), justify="right")
    for tie in e.ties:
        nearest = ", ".join(
            f"{_unit_label(u, problem)}: {format_number(d, decimals=2, significant=2)}"
            for u, d in tie.nearest
        )
        ties.add_row(tie.criterion, nearest,
                     format_number(tie.ratio, decimals=2, significant=2))
    console.print(ties)
    moves = Table(title=tr("cli_explain.moves"), title_justify="left")
    moves.add_column(tr("cli_explain.cluster"))
    moves.add_column(tr("cli_explain.delta"), justify="right")
    moves.add_column(tr("cli_explain.broken"))
    for move in e.moves:
        broken = ", ".join(move.broken_words) if move.broken else tr("cli_explain.none")
        delta = format_number(move.delta, decimals=3, significant=2)
        moves.add_row(move.label, "+" + delta if move.delta > 0 else delta, broken)
    console.print(moves)
    console.print(unit_verdict(e), markup=False)


def _infeasible_payload(
    result: ScenarioResult,
) -> tuple[InfeasibleError, dict[str, Any]]:
    """The stored conflict and relaxations; diagnosed now when the folder has none."""
    error = result.error
    assert error is not None
    if isinstance(error, InfeasibleError) and not error.conflict:
        error = explain_infeasible(result.problem, error)
    payload: dict[str, Any] = {"status": "INFEASIBLE", "reason": str(result.error)}
    if isinstance(error, InfeasibleError):
        payload["conflict"] = list(error.conflict)
        payload["relaxations"] = list(error.relaxations)
        if isinstance(error, DiagnosedInfeasibleError):
            payload["diagnosis"] = error.diagnosis.to_json()
    else:
        payload["status"] = "NO_SOLUTION"
    return error if isinstance(error, InfeasibleError) else InfeasibleError(
        str(error)
    ), payload


def _print_infeasible(result: ScenarioResult, payload: dict[str, Any]) -> None:
    console = stdout_console()
    console.print(
        tr("cli_explain.infeasible", name=result.name, status=payload["status"]), style="bold"
    )
    if payload["reason"]:
        console.print(payload["reason"], markup=False)
    for key in ("conflict", "relaxations"):
        items = payload.get(key) or []
        if items and not all(item in payload["reason"] for item in items):
            console.print("\n" + tr("cli_explain." + key), style="bold")
            for item in items:
                console.print(f"  - {item}", markup=False)


@command("explain", "cli_explain.help")
@click.argument(
    "directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="DIR",
)
@option("--unit", "unit", help_key="cli_explain.opt_unit", default=None, metavar="ID")
@option("--json", "as_json", help_key="opt.json", is_flag=True)
@lang_option
def explain(directory: Path, unit: str | None, as_json: bool) -> None:
    """Print why the plan in DIR is as it is (see module docstring)."""
    result = load_solved(directory)
    if result.plan is None:
        _, payload = _infeasible_payload(result)
        if as_json:
            print_json(payload)
        else:
            _print_infeasible(result, payload)
        return
    plan, problem = result.plan, result.problem
    if unit is not None:
        e = explain_unit(plan, problem, unit)
        if as_json:
            print_json(_unit_payload(e, problem))
        else:
            _print_unit(e, problem)
        return
    scope = _bound_scope(directory)
    if as_json:
        print_json(_summary_payload(plan, problem, scope))
    else:
        _print_summary(result, plan, scope)
