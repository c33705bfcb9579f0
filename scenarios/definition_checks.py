"""Planner-worded checks of scenario files: schema errors and scenario-vs-data fit.

Kept apart from :mod:`scenarios.definition` so the models stay readable; every
function here returns message strings (already in the current language) and
the caller raises one :class:`~scenarios.errors.ScenarioError` listing them all
("collect, then raise").
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from features.i18n import register, tr
from features.types import Profiles
from optimizer.problem import Rules

if TYPE_CHECKING:  # pragma: no cover
    from scenarios.definition import ScenarioSpec

_TYPE_MESSAGES = {
    "missing": "scenario.err.missing",
    "int_type": "scenario.err.int",
    "int_parsing": "scenario.err.int",
    "int_from_float": "scenario.err.int",
    "float_type": "scenario.err.float",
    "float_parsing": "scenario.err.float",
    "bool_type": "scenario.err.bool",
    "bool_parsing": "scenario.err.bool",
    "string_type": "scenario.err.str",
    "list_type": "scenario.err.list",
    "dict_type": "scenario.err.table",
    "model_type": "scenario.err.table",
    "model_attributes_type": "scenario.err.table",
    "greater_than": "scenario.err.gt",
    "greater_than_equal": "scenario.err.ge",
    "less_than_equal": "scenario.err.le",
    "finite_number": "scenario.err.finite",
    "string_too_short": "scenario.err.empty",
}

register(
    {
        "scenario.err.unknown_key": {
            "vi": "khóa không hợp lệ '{path}'{hint}",
            "en": "unknown key '{path}'{hint}",
        },
        "scenario.err.did_you_mean": {
            "vi": " — có phải ý bạn là '{suggestion}'?",
            "en": " — did you mean '{suggestion}'?",
        },
        "scenario.err.valid_keys": {
            "vi": " — các khóa hợp lệ: {keys}",
            "en": " — valid keys: {keys}",
        },
        "scenario.err.missing": {
            "vi": "thiếu khóa bắt buộc '{path}'",
            "en": "required key '{path}' is missing",
        },
        "scenario.err.int": {
            "vi": "'{path}' phải là số nguyên, nhận được {value}",
            "en": "'{path}' must be a whole number, got {value}",
        },
        "scenario.err.float": {
            "vi": "'{path}' phải là số, nhận được {value}",
            "en": "'{path}' must be a number, got {value}",
        },
        "scenario.err.bool": {
            "vi": "'{path}' phải là true hoặc false, nhận được {value}",
            "en": "'{path}' must be true or false, got {value}",
        },
        "scenario.err.str": {
            "vi": "'{path}' phải là chuỗi trong ngoặc kép (mã đơn vị viết như \"01\"), nhận được {value}",
            "en": "'{path}' must be a quoted string (unit ids are written like \"01\"), got {value}",
        },
        "scenario.err.list": {
            "vi": "'{path}' phải là danh sách [ ... ], nhận được {value}",
            "en": "'{path}' must be a list [ ... ], got {value}",
        },
        "scenario.err.table": {
            "vi": "'{path}' phải là một bảng [{path}] hoặc {{ ... }}, nhận được {value}",
            "en": "'{path}' must be a table [{path}] or {{ ... }}, got {value}",
        },
        "scenario.err.le": {
            "vi": "'{path}' phải nhỏ hơn hoặc bằng {limit}, nhận được {value}",
            "en": "'{path}' must be at most {limit}, got {value}",
        },
        "scenario.err.finite": {
            "vi": "'{path}' phải là một số hữu hạn, nhận được {value}",
            "en": "'{path}' must be a finite number, got {value}",
        },
        "scenario.err.gt": {
            "vi": "'{path}' phải lớn hơn {limit}, nhận được {value}",
            "en": "'{path}' must be greater than {limit}, got {value}",
        },
        "scenario.err.ge": {
            "vi": "'{path}' phải lớn hơn hoặc bằng {limit}, nhận được {value}",
            "en": "'{path}' must be at least {limit}, got {value}",
        },
        "scenario.err.empty": {
            "vi": "'{path}' không được để trống",
            "en": "'{path}' must not be empty",
        },
        "scenario.err.other": {
            "vi": "'{path}': {detail}",
            "en": "'{path}': {detail}",
        },
    }
)


def _dotted(loc: tuple[Any, ...], prefix: str) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += ("." if text else "") + str(part)
    return prefix + (text or "")


def _allowed_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Keys a table at ``loc`` accepts (walks the pydantic model tree)."""
    model = root
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def describe_validation_error(
    error: Mapping[str, Any], root: type[BaseModel], prefix: str = ""
) -> str:
    """One pydantic error in planner words, with the key's dotted path."""
    loc = tuple(error.get("loc", ()))
    path = _dotted(loc, prefix)
    kind = error.get("type", "")
    value = repr(error.get("input"))
    if kind == "extra_forbidden":
        allowed = _allowed_keys(root, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        if close:
            hint = tr(
                "scenario.err.did_you_mean",
                suggestion=_dotted((*loc[:-1], close[0]), prefix),
            )
        else:
            hint = (
                tr("scenario.err.valid_keys", keys=", ".join(allowed))
                if allowed
                else ""
            )
        return tr("scenario.err.unknown_key", path=path, hint=hint)
    if kind in _TYPE_MESSAGES:
        ctx = error.get("ctx") or {}
        limit = ctx.get("gt", ctx.get("ge", ctx.get("le", "")))
        return tr(_TYPE_MESSAGES[kind], path=path, value=value, limit=limit)
    detail = str(error.get("msg", "")).removeprefix("Value error, ")
    return tr("scenario.err.other", path=path or "scenario", detail=detail)


register(
    {
        "scenario.build_header": {
            "vi": "{file}: kịch bản '{name}' không khớp với dữ liệu ({n} lỗi):",
            "en": "{file}: scenario '{name}' does not fit the data ({n} problem(s)):",
        },
        "scenario.count_gt_units": {
            "vi": "[clusters] {key} = {count} lớn hơn số đơn vị ({n})",
            "en": "[clusters] {key} = {count} is larger than the number of units ({n})",
        },
        "scenario.size_gt_units": {
            "vi": "[clusters] min_size = {size} lớn hơn số đơn vị ({n})",
            "en": "[clusters] min_size = {size} is larger than the number of units ({n})",
        },
        "scenario.column_missing": {
            "vi": "[{section}] cột '{column}' không có trong bảng đơn vị{hint}",
            "en": "[{section}] column '{column}' is not in the unit table{hint}",
        },
        "scenario.column_not_numeric": {
            "vi": "[{section}] cột '{column}' không phải cột số",
            "en": "[{section}] column '{column}' is not numeric",
        },
        "scenario.criterion_absent": {
            "vi": "[similarity] {key}: bảng đơn vị không có dữ liệu '{key}'",
            "en": "[similarity] {key}: the unit table has no '{key}' data",
        },
        "scenario.no_similarity": {
            "vi": "[similarity]: không có tiêu chí nào có trọng số > 0 để so sánh đơn vị",
            "en": "[similarity]: no criterion with a weight > 0 to compare units on",
        },
        "scenario.unknown_unit": {
            "vi": "[rules] {key}: mã đơn vị '{unit}' không có trong bảng{hint}",
            "en": "[rules] {key}: unit id '{unit}' is not in the table{hint}",
        },
        "scenario.rule_needs": {
            "vi": "[rules] {key} cần {what}",
            "en": "[rules] {key} needs {what}",
        },
        "scenario.needs_adjacency": {
            "vi": "tệp liền kề ([data] adjacency)",
            "en": "an adjacency file ([data] adjacency)",
        },
        "scenario.needs_column": {
            "vi": "cột '{column}' trong bảng đơn vị",
            "en": "column '{column}' in the unit table",
        },
        "scenario.too_many_labels": {
            "vi": "[rules] fixed dùng {n} nhãn cụm khác nhau nhưng chỉ có tối đa {k} cụm",
            "en": "[rules] fixed uses {n} different cluster labels but there are at most {k} clusters",
        },
        "scenario.similar": {"vi": " — có phải '{x}'?", "en": " — did you mean '{x}'?"},
        "scenario.purpose_balance": {
            "vi": "cân bằng [balance]",
            "en": "balance [balance]",
        },
        "scenario.purpose_similarity": {
            "vi": "so sánh [similarity]",
            "en": "similarity [similarity]",
        },
    }
)


def _suggest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return tr("scenario.similar", x=close[0]) if close else ""


def check_against_data(
    spec: ScenarioSpec, profiles: Profiles, rules: Rules, weights: Mapping[str, float]
) -> list[str]:
    """Every cross-field problem between the scenario and its data."""
    n = profiles.n_units
    frame = profiles.frame
    numeric = list(profiles.numeric_columns)
    problems: list[str] = []
    c = spec.clusters
    for key in ("count", "min_count", "max_count"):
        value = getattr(c, key)
        if value is not None and value > n:
            problems.append(tr("scenario.count_gt_units", key=key, count=value, n=n))
    if rules.min_size is not None and rules.min_size > n:
        problems.append(tr("scenario.size_gt_units", size=rules.min_size, n=n))
    for section, names in (
        ("balance", list(spec.balance)),
        ("similarity", list(weights)),
    ):
        for column in names:
            if section == "similarity" and column in ("function", "region", "location"):
                present = {
                    "function": frame["functions"].map(len).gt(0).any(),
                    "region": frame["region"].notna().any(),
                    "location": profiles.has_location,
                }[column]
                if not present:
                    problems.append(tr("scenario.criterion_absent", key=column))
            elif column in frame.columns and column not in numeric:
                problems.append(
                    tr("scenario.column_not_numeric", section=section, column=column)
                )
            elif column not in numeric:
                hint = _suggest(column, numeric + ["function", "region", "location"])
                problems.append(
                    tr(
                        "scenario.column_missing",
                        section=section,
                        column=column,
                        hint=hint,
                    )
                )
    if not weights:
        problems.append(tr("scenario.no_similarity"))
    ids = list(profiles.unit_ids)
    known = set(ids)
    r = spec.rules
    referenced = [("together", u) for g in r.together for u in g]
    referenced += [("apart", u) for g in r.apart for u in g]
    referenced += [("fixed", u) for u in r.fixed]
    for key, unit in referenced:
        if unit not in known:
            padded = [i for i in ids if i.lstrip("0") == unit.lstrip("0")]
            hint = (
                tr("scenario.similar", x=padded[0]) if padded else _suggest(unit, ids)
            )
            problems.append(tr("scenario.unknown_unit", key=key, unit=unit, hint=hint))
    needs = [
        (
            "contiguous",
            r.contiguous,
            spec.data.adjacency is not None,
            tr("scenario.needs_adjacency"),
        ),
        ("one_region", r.one_region, frame["region"].notna().any(), spec.data.region),
        (
            "one_function",
            r.one_function,
            frame["functions"].map(len).gt(0).any(),
            spec.data.function,
        ),
        (
            "max_moves",
            r.max_moves is not None,
            profiles.has_current,
            spec.data.current_cluster,
        ),
        (
            "stability_weight",
            r.stability_weight > 0,
            profiles.has_current,
            spec.data.current_cluster,
        ),
    ]
    for key, active, available, what in needs:
        if active and not available:
            if key != "contiguous":
                what = tr("scenario.needs_column", column=what)
            problems.append(tr("scenario.rule_needs", key=key, what=what))
    n_labels = len(set(r.fixed.values()))
    k_max = max(rules.counts)
    if n_labels > k_max:
        problems.append(tr("scenario.too_many_labels", n=n_labels, k=k_max))
    return problems
