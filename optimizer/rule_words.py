"""Planner words for rule keys: ``balance:population`` → "cân bằng dân số".

Why: checks, explanations and reports name rules by machine keys
(``balance:population``, ``max_size``, ``together[0]``) that scripts and
``plan.json`` rely on; a council reading a move table needs "cân bằng dân số"
/ "population balance" instead. This is the one place that translation lives,
so the CLI, the explanations and the reports say the same words. Keys stay
the machine form everywhere else (JSON, ``plan.json`` checks).
"""

from __future__ import annotations

import re

from features.i18n import has_message, register, tr

register(
    {
        "rule_words.partition": {
            "vi": "mỗi đơn vị thuộc đúng một cụm",
            "en": "each unit in exactly one cluster",
        },
        "rule_words.clusters": {"vi": "số cụm", "en": "number of clusters"},
        "rule_words.count": {"vi": "số cụm", "en": "number of clusters"},
        "rule_words.min_size": {
            "vi": "quy mô cụm tối thiểu",
            "en": "minimum cluster size",
        },
        "rule_words.max_size": {
            "vi": "quy mô cụm tối đa",
            "en": "maximum cluster size",
        },
        "rule_words.balance": {"vi": "cân bằng {column}", "en": "{column} balance"},
        "rule_words.contiguous": {
            "vi": "cụm liền mạch (liền kề)",
            "en": "contiguous clusters",
        },
        "rule_words.one_region": {
            "vi": "mỗi cụm một vùng",
            "en": "one region per cluster",
        },
        "rule_words.one_function": {
            "vi": "mỗi cụm một chức năng",
            "en": "one function per cluster",
        },
        "rule_words.max_moves": {
            "vi": "giới hạn số đơn vị đổi cụm",
            "en": "limit on units changing cluster",
        },
        "rule_words.together": {
            "vi": "nhóm phải chung cụm",
            "en": "kept-together group",
        },
        "rule_words.apart": {"vi": "nhóm phải khác cụm", "en": "kept-apart group"},
        "rule_words.fixed": {
            "vi": "đơn vị cố định vào cụm",
            "en": "unit fixed to a cluster",
        },
        "rule_words.fixed_unit": {
            "vi": "cố định đơn vị {unit}",
            "en": "unit {unit} fixed to its cluster",
        },
        # columns of the bundled table and the sample generator; any other
        # column keeps the header the planner wrote
        "rule_words.col.population": {"vi": "dân số", "en": "population"},
        "rule_words.col.area_km2": {"vi": "diện tích", "en": "area"},
        "rule_words.col.n_wards_communes": {
            "vi": "số xã, phường",
            "en": "number of communes and wards",
        },
        "rule_words.col.n_merged": {
            "vi": "số đơn vị sáp nhập",
            "en": "number of merged units",
        },
        "rule_words.col.grdp_2024_mn_vnd": {"vi": "GRDP", "en": "GRDP"},
        "rule_words.col.budget_revenue_2024_mn_vnd": {
            "vi": "thu ngân sách",
            "en": "budget revenue",
        },
        "rule_words.col.income_per_capita_mn_vnd_year": {
            "vi": "thu nhập bình quân đầu người",
            "en": "income per head",
        },
    }
)

#: ``kind:key`` (check names) or ``kind[key]`` (rule instance refs).
_KEY = re.compile(r"^(?P<kind>[a-z_]+)(?::(?P<colon>.+)|\[(?P<bracket>.*)\])?$")


def column_words(column: str) -> str:
    """Planner name of a scale column ("dân số" for ``population``), else the header itself."""
    key = f"rule_words.col.{column}"
    return tr(key) if has_message(key) else column


def rule_words(key: str) -> str:
    """Planner words for a rule key, in the current language.

    Accepts the names of :func:`optimizer.check.check_plan` (``max_size``,
    ``balance:population``) and of rule instances (``balance[population]``,
    ``together[0]``, ``fixed[01]``). An unknown key is returned unchanged,
    so a new rule is shown by its key rather than hidden.

    Examples
    --------
    >>> from features.i18n import language
    >>> with language("vi"):
    ...     rule_words("balance:population")
    'cân bằng dân số'
    >>> with language("en"):
    ...     rule_words("balance[population]")
    'population balance'
    """
    match = _KEY.match(key.strip())
    if match is None:
        return key
    kind = match["kind"]
    detail = match["colon"] if match["colon"] is not None else match["bracket"]
    if kind == "balance" and detail:
        return tr("rule_words.balance", column=column_words(detail))
    if kind == "fixed" and detail:
        return tr("rule_words.fixed_unit", unit=detail)
    msg = f"rule_words.{kind}"
    return tr(msg) if has_message(msg) else key
