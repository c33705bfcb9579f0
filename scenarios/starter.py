"""A starter scenario fitted to a unit table (``cumkhoi init`` and ``cumkhoi sample``).

Why: a planner with a new table should get a scenario that *runs* first time and
explains itself (comments in the message language), then edit it. Choices:
``count = round(n / 6)``; sizes ``[⌊n/K⌋ − 1, ⌈n/K⌉ + 1]``; balance ±15 % on a
complete population-like column, widened (:func:`balance_tolerance`) when the
largest unit could not fit; similarity on function, region, location and that
column, whichever the table has; a time limit that grows with the table
(:func:`optimizer.budget.suggested_time_limit`).
"""

from __future__ import annotations

import json
import math
import os
import re
import unicodedata
from pathlib import Path

from features.i18n import register, tr
from features.types import Profiles
from optimizer.budget import suggested_time_limit
from scenarios.definition import SolverSpec

POPULATION_HINTS = (
    "population",
    "dan_so",
    "danso",
    "dân số",
    "dan so",
    "nhan_khau",
    "pop",
)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold().replace(" ", "_")


def population_column(profiles: Profiles) -> str | None:
    """A complete, population-like scale column to balance on, if the table has one."""
    complete = [c for c in profiles.numeric_columns if profiles.frame[c].notna().all()]
    for hint in POPULATION_HINTS:
        for column in complete:
            if hint.replace(" ", "_") in _fold(column):
                return column
    return None


def _toml_str(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_key(key: str) -> str:
    """A TOML key: bare when it can be (``population``), else quoted (``"dân số"``).

    Vietnamese headers such as ``dân số`` or ``diện tích`` are not bare keys;
    written unquoted they made ``cumkhoi init`` produce a file that does not parse.
    """
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_str(key)


def balance_tolerance(values: list[float], n_clusters: int, min_size: int) -> float:
    """±15 %, widened (in 5 % steps, plus 5 % margin) until the largest unit's cluster fits.

    The largest unit shares its cluster with at least ``min_size - 1`` others,
    so even with the smallest of them the cluster total must stay under the band.
    """
    ordered = sorted(values)
    mean = sum(ordered) / n_clusters
    if mean <= 0:
        return 0.15
    lightest = ordered[-1] + sum(ordered[: max(0, min_size - 1)])
    needed = lightest / mean - 1
    return round(max(0.15, math.ceil((needed + 0.05) * 20) / 20), 2)


def starter_toml(
    profiles: Profiles,
    units: Path,
    out: Path,
    adjacency: Path | None = None,
    name: str | None = None,
) -> str:
    """A commented starter scenario fitted to ``profiles`` (see ``cumkhoi init``)."""
    n = profiles.n_units
    k = max(1, round(n / 6))
    lo, hi = max(1, n // k - 1), math.ceil(n / k) + 1
    frame = profiles.frame
    has_function = bool(frame["functions"].map(len).gt(0).any())
    has_region = bool(frame["region"].notna().any())
    population = population_column(profiles)
    base = out.resolve().parent
    lines = [
        tr("init.c_head", file=units.name, n=n),
        tr("init.c_run", out=out.name),
        f"name = {_toml_str(name or units.stem)}",
        "",
        "[data]",
        f"units = {_toml_str(Path(os.path.relpath(units.resolve(), base)).as_posix())}",
    ]
    if adjacency is not None:
        rel = Path(os.path.relpath(adjacency.resolve(), base)).as_posix()
        lines.append(f"adjacency = {_toml_str(rel)}")
    lines += [
        "",
        "[clusters]",
        tr("init.c_count", n=n),
        f"count = {k}",
        f"min_size = {lo}",
    ]
    lines += [f"max_size = {hi}", "", "[balance]", tr("init.c_balance")]
    if population is not None:
        tol = balance_tolerance(frame[population].tolist(), k, lo)
        lines.append(f"{_toml_key(population)} = {tol}")
    else:
        lines.append("# population = 0.15")
    lines += ["", "[similarity]", tr("init.c_similarity")]
    weights = []
    if has_function:
        weights.append(("function", 2.0))
    if has_region:
        weights.append(("region", 2.0))
    if profiles.has_location:
        weights.append(("location", 1.0))
    if population is not None:
        weights.append((population, 1.0))
    if not weights:
        weights = [
            (c, 1.0) for c in profiles.numeric_columns if frame[c].notna().all()
        ][:3]
    lines += [f"{_toml_key(key)} = {value}" for key, value in weights]
    lines += ["", "[rules]", tr("init.c_contiguous")]
    lines.append(f"contiguous = {'false'}")
    lines += [tr("init.c_one_region"), "one_region = false"]
    lines += [tr("init.c_one_function"), "one_function = false"]
    lines += [
        tr("init.c_pairs"),
        '# together = [["01", "02"]]',
        '# apart = [["01", "03"]]',
    ]
    if profiles.has_current:
        lines += [tr("init.c_moves"), f"# max_moves = {max(1, n // 5)}"]
    lines += [
        "",
        "[solver]",
        tr("init.c_solver"),
    ]
    seconds = suggested_time_limit(n)
    if seconds != SolverSpec.model_fields["time_limit"].default:  # say why it is not the default
        lines.append(tr("init.c_time_limit", n=n, seconds=seconds))
    lines += [
        f"time_limit = {seconds}",
        "seed = 0",
        "workers = 1",
        "",
    ]
    return "\n".join(lines)


register(
    {
        "init.c_head": {
            "vi": "# Kịch bản khởi đầu do `cumkhoi init` tạo từ {file} ({n} đơn vị).",
            "en": "# Starter scenario written by `cumkhoi init` from {file} ({n} units).",
        },
        "init.c_run": {
            "vi": "# Sửa các giá trị bên dưới rồi chạy: cumkhoi plan {out}",
            "en": "# Edit the values below, then run: cumkhoi plan {out}",
        },
        "init.c_count": {
            "vi": "# Số cụm (≈ {n} đơn vị / 6) và số đơn vị tối thiểu/tối đa mỗi cụm",
            "en": "# Number of clusters (≈ {n} units / 6) and min/max units per cluster",
        },
        "init.c_balance": {
            "vi": "# Cân bằng: tổng của cột trong mỗi cụm nằm trong ±tỷ lệ quanh mức trung bình",
            "en": "# Balance: each cluster's column total within ±tolerance of the mean",
        },
        "init.c_similarity": {
            "vi": "# Tương đồng: trọng số của từng tiêu chí (function, region, location, cột số)",
            "en": "# Similarity: weight of each criterion (function, region, location, a column)",
        },
        "init.c_contiguous": {
            "vi": "# true = mỗi cụm liền một dải (cần [data] adjacency)",
            "en": "# true = each cluster is connected (needs [data] adjacency)",
        },
        "init.c_one_region": {
            "vi": "# true = mỗi cụm chỉ gồm đơn vị cùng một vùng",
            "en": "# true = no cluster spans two regions",
        },
        "init.c_one_function": {
            "vi": "# true = khối theo chức năng: mỗi cụm cùng một loại",
            "en": "# true = block mode: one function per cluster",
        },
        "init.c_pairs": {
            "vi": "# Các đơn vị phải cùng cụm / phải khác cụm (mã trong ngoặc kép)",
            "en": "# Units that must share a cluster / must be apart (quoted ids)",
        },
        "init.c_moves": {
            "vi": "# Tối đa bao nhiêu đơn vị được đổi cụm so với current_cluster",
            "en": "# At most this many units may change cluster vs current_cluster",
        },
        "init.c_time_limit": {
            "vi": "# {n} đơn vị: {seconds} giây để phương án và khoảng cách tối ưu có ý nghĩa;"
                  " giảm xuống khi chỉ chạy thử",
            "en": "# {n} units: {seconds} s for a plan and an optimality gap worth reading;"
                  " lower it for quick trials",
        },
        "init.c_solver": {
            "vi": "# Thời gian tìm kiếm (giây), hạt giống, số luồng (1 = tái lập được)",
            "en": "# Search time (s), seed, workers (1 = reproducible)",
        },
    }
)
