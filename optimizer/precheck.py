"""Impossibilities that arithmetic shows before any solving, explained with numbers.

A planner who asks for 6 clusters of at most 5 units from 34 provinces should
hear "6 × 5 = 30 < 34" at once, not after a 30-second solve ending in
"infeasible". Each check states the rule, the numbers and what to relax. For
a cluster-count range, counts that fail are skipped; only when every count
fails is the first count's reason raised.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

from features.errors import InputError
from features.i18n import register, tr
from optimizer.data import ModelData, prepare
from optimizer.errors import InfeasibleError
from optimizer.problem import Problem
from optimizer.rule_groups import count_range

register(
    {
        "precheck.too_many_clusters": {
            "vi": "Số cụm {k} lớn hơn số đơn vị {n}; hãy giảm số cụm.",
            "en": "{k} clusters requested but there are only {n} units; lower the cluster count.",
        },
        "precheck.max_size": {
            "vi": "{k} cụm × tối đa {max_size} đơn vị = {cap} < {n} đơn vị; hãy tăng max_size hoặc số cụm.",
            "en": "{k} clusters × at most {max_size} units = {cap} < {n} units; raise max_size or the cluster count.",
        },
        "precheck.min_size": {
            "vi": "{k} cụm × tối thiểu {min_size} đơn vị = {need} > {n} đơn vị; hãy giảm min_size hoặc số cụm.",
            "en": "{k} clusters × at least {min_size} units = {need} > {n} units; lower min_size or the cluster count.",
        },
        "precheck.sizes_crossed": {
            "vi": "min_size {min_size} lớn hơn max_size {max_size}.",
            "en": "min_size {min_size} is larger than max_size {max_size}.",
        },
        "precheck.balance_unit": {
            "vi": "Cân bằng '{column}' (±{tol:.0%}) với {k} cụm: tổng mỗi cụm phải ≤ {hi}, nhưng riêng đơn vị {unit} đã có {value}; hãy nới dung sai hoặc giảm số cụm.",
            "en": "Balance of '{column}' (±{tol:.0%}) with {k} clusters: each cluster total must be ≤ {hi}, but unit {unit} alone has {value}; widen the tolerance or use fewer clusters.",
        },
        "precheck.balance_contiguous": {
            "vi": "Cân bằng '{column}' (±{tol:.0%}) với {k} cụm liền kề, mỗi cụm ≥ {min_size} đơn vị: tổng mỗi cụm phải ≤ {hi}, nhưng mọi nhóm {min_size} đơn vị liền nhau chứa {unit} đã có tổng ≥ {total}; hãy nới dung sai tới ít nhất ±{need:.0%}, giảm min_size hoặc giảm số cụm.",
            "en": "Balance of '{column}' (±{tol:.0%}) with {k} contiguous clusters of at least {min_size} units: each cluster total must be ≤ {hi}, but every connected group of {min_size} units containing {unit} totals ≥ {total}; widen the tolerance to at least ±{need:.0%}, lower min_size or use fewer clusters.",
        },
        "precheck.balance_missing": {
            "vi": "Cột '{column}' dùng để cân bằng nhưng thiếu giá trị ở {n} đơn vị (ví dụ {units}).",
            "en": "Column '{column}' is balanced but {n} unit(s) have no value (e.g. {units}).",
        },
        "precheck.no_graph": {
            "vi": "Quy tắc liền kề (contiguous) cần tệp kề nhau (adjacency).",
            "en": "The contiguity rule needs an adjacency file.",
        },
        "precheck.components": {
            "vi": "Quy tắc liền kề: đồ thị kề nhau có {c} thành phần rời nhau nhưng chỉ có {k} cụm; mỗi thành phần cần ít nhất một cụm.",
            "en": "Contiguity: the adjacency graph has {c} separate components but only {k} clusters; each component needs its own cluster.",
        },
        "precheck.component_small": {
            "vi": "Quy tắc liền kề: thành phần chứa {unit} chỉ có {size} đơn vị, ít hơn min_size {min_size}.",
            "en": "Contiguity: the component containing {unit} has only {size} units, fewer than min_size {min_size}.",
        },
        "precheck.together_big": {
            "vi": "Nhóm luôn đi cùng nhau {units} có {size} đơn vị, vượt max_size {max_size}.",
            "en": "Together group {units} has {size} units, more than max_size {max_size}.",
        },
        "precheck.together_apart": {
            "vi": "{a} và {b} vừa phải cùng cụm (together/fixed) vừa phải khác cụm (apart).",
            "en": "{a} and {b} must be both together (together/fixed) and apart.",
        },
        "precheck.fixed_conflict": {
            "vi": "{a} (cố định vào '{la}') và {b} (cố định vào '{lb}') phải cùng cụm theo nhóm together.",
            "en": "{a} (fixed to '{la}') and {b} (fixed to '{lb}') are required to be together.",
        },
        "precheck.fixed_labels": {
            "vi": "Có {n_labels} nhãn cụm cố định khác nhau nhưng chỉ có {k} cụm.",
            "en": "{n_labels} distinct fixed cluster labels but only {k} clusters.",
        },
        "precheck.max_moves": {
            "vi": "Tối đa {limit} đơn vị được đổi cụm (max_moves), nhưng với {k} cụm ít nhất {need} "
                  "đơn vị phải đổi: mỗi cụm mới giữ tên của nhiều nhất một cụm hiện tại, nên {k} cụm "
                  "giữ lại được tối đa {keep} đơn vị ở cụm cũ. Hãy nâng max_moves lên ít nhất {need} "
                  "hoặc tăng số cụm.",
            "en": "At most {limit} units may change cluster (max_moves), but with {k} clusters at least "
                  "{need} must: each new cluster keeps the name of at most one current cluster, so {k} "
                  "clusters keep at most {keep} units where they are. Raise max_moves to at least "
                  "{need} or use more clusters.",
        },
        "precheck.max_moves_new": {
            "vi": "Tối đa {limit} đơn vị được đổi cụm (max_moves), nhưng hiện có {groups} cụm và kịch "
                  "bản cần {k}: {new} cụm mới, mỗi cụm ít nhất {min_size} đơn vị, chỉ gồm đơn vị đổi "
                  "cụm{unknown}, nên ít nhất {need} đơn vị phải đổi. Hãy "
                  "nâng max_moves lên ít nhất {need}, giảm số cụm hoặc giảm min_size.",
            "en": "At most {limit} units may change cluster (max_moves), but there are {groups} "
                  "current clusters and the scenario asks for {k}: {new} new clusters of at least "
                  "{min_size} units each hold only units that change cluster{unknown}, "
                  "so at least {need} must change. Raise max_moves "
                  "to at least {need}, use fewer clusters or lower min_size.",
        },
        "precheck.max_moves_unknown": {
            "vi": " (và {n} đơn vị chưa có cụm)", "en": " (and the {n} units with no current cluster)"},
        "precheck.apart_big": {
            "vi": "Nhóm phải khác cụm {units} có {size} đơn vị nhưng chỉ có {k} cụm.",
            "en": "Apart group {units} has {size} units but there are only {k} clusters.",
        },
        "precheck.regions": {
            "vi": "Mỗi cụm một vùng (one_region): cần ít nhất {need} cụm ({detail}) nhưng chỉ có {k}.",
            "en": "One region per cluster: at least {need} clusters are needed ({detail}) but there are {k}.",
        },
        "precheck.region_small": {
            "vi": "Mỗi cụm một vùng: vùng '{region}' chỉ có {size} đơn vị, ít hơn min_size {min_size}.",
            "en": "One region per cluster: region '{region}' has only {size} units, fewer than min_size {min_size}.",
        },
        "precheck.together_regions": {
            "vi": "Mỗi cụm một vùng: nhóm together {units} trải trên nhiều vùng.",
            "en": "One region per cluster: together group {units} spans several regions.",
        },
        "precheck.block_alone": {
            "vi": "{rule}: {kind} '{name}' có {size} đơn vị{totals}; không có số cụm nào chỉ gồm "
                  "đơn vị của nó mà mỗi cụm vừa có {min_size}–{max_size} đơn vị{bands}. Hãy nới "
                  "giới hạn cỡ cụm hoặc dung sai cân bằng, hoặc bỏ {rule}.",
            "en": "{rule}: {kind} '{name}' has {size} units{totals}; no number of clusters of its "
                  "units alone gives every cluster {min_size}–{max_size} units{bands}. Widen the "
                  "size limits or the balance tolerance, or drop {rule}.",
        },
        "precheck.block_counts": {
            "vi": "{rule}: mỗi {kind} phải được chia thành những cụm riêng vừa cỡ{balanced}, nên "
                  "cần từ {low} đến {high} cụm, nhưng có {k}. Hãy chọn số cụm trong khoảng đó.",
            "en": "{rule}: each {kind} must be split into clusters of its own that fit the sizes"
                  "{balanced}, which takes {low} to {high} clusters, but there are {k}. Choose a "
                  "cluster count in that range.",
        },
        "precheck.kind_region": {"vi": "vùng", "en": "region"},
        "precheck.kind_function": {"vi": "chức năng", "en": "function"},
        "precheck.kind_both": {"vi": "cặp vùng–chức năng", "en": "region–function pair"},
        "precheck.block_total": {"vi": ", tổng {column} {total}", "en": ", {column} totalling {total}"},
        "precheck.block_band": {
            "vi": " và tổng {column} trong {lo}–{hi}",
            "en": " and a {column} total within {lo}–{hi}",
        },
        "precheck.balanced": {"vi": " và cân bằng", "en": " and the balance bands"},
        "precheck.together_functions": {
            "vi": "Mỗi cụm một chức năng: nhóm together {units} không có chức năng chung.",
            "en": "One function per cluster: together group {units} shares no function.",
        },
        "precheck.no_function": {
            "vi": "Mỗi cụm một chức năng (one_function) cần chức năng của mọi đơn vị; thiếu ở: {units}.",
            "en": "One function per cluster needs every unit's function; missing for: {units}.",
        },
        "precheck.functions": {
            "vi": "Mỗi cụm một chức năng: các đơn vị {units} không có chức năng chung với nhau nên cần ít nhất {need} cụm, nhưng chỉ có {k}.",
            "en": "One function per cluster: units {units} share no function pairwise, so at least {need} clusters are needed, but there are {k}.",
        },
        "precheck.company_size": {
            "vi": "{rule}: đơn vị {unit} chỉ có thể chung cụm với đơn vị {detail}; cả bảng chỉ có "
                  "{size} đơn vị như vậy (kể cả nó), ít hơn min_size {min_size}. Hãy giảm "
                  "min_size hoặc bỏ {drop}.",
            "en": "{rule}: unit {unit} can share a cluster only with units {detail}; the table has "
                  "only {size} such units (itself included), fewer than min_size {min_size}. "
                  "Lower min_size or drop {drop}.",
        },
        "precheck.company_balance": {
            "vi": "{rule}: đơn vị {unit} chỉ có thể chung cụm với đơn vị {detail}; một cụm như thế "
                  "(tối đa {max_size} đơn vị) có tổng '{column}' nhiều nhất {total}, dưới mức tối "
                  "thiểu {lo} của dung sai ±{tol:.0%}. Hãy nới dung sai, tăng max_size hoặc bỏ {drop}.",
            "en": "{rule}: unit {unit} can share a cluster only with units {detail}; such a cluster "
                  "(at most {max_size} units) totals at most {total} of '{column}', below the "
                  "minimum {lo} of the ±{tol:.0%} band. Widen the tolerance, raise max_size or "
                  "drop {drop}.",
        },
        "precheck.company_region": {"vi": "cùng vùng '{region}'", "en": "of region '{region}'"},
        "precheck.company_function": {
            "vi": "có chức năng '{function}'", "en": "with function '{function}'"},
        "precheck.company_and": {"vi": " và ", "en": " and "},
        "precheck.company_or": {"vi": " hoặc ", "en": " or "},
    }
)

_MAX_LISTED = 5


def _names(ids: list[str]) -> str:
    shown = ", ".join(ids[:_MAX_LISTED])
    return shown + (f" … (+{len(ids) - _MAX_LISTED})" if len(ids) > _MAX_LISTED else "")


def precheck(problem: Problem) -> None:
    """Raise :class:`InfeasibleError` when no allowed cluster count can work.

    Raises
    ------
    InfeasibleError
        With the numbers that prove it and ``rules`` naming the rules involved.
    InputError
        When a balanced column has missing values.
    """
    feasible_counts(problem)


def feasible_counts(problem: Problem, data: ModelData | None = None) -> list[int]:
    """Cluster counts that pass every check; raises the first failure when none do."""
    data = data if data is not None else prepare(problem)
    _check_count_free(problem, data)
    ok: list[int] = []
    first: InfeasibleError | None = None
    for k in problem.rules.counts:
        err = count_problem(problem, data, k)
        if err is None:
            ok.append(k)
        elif first is None:
            first = err
    if not ok:
        assert first is not None
        raise first
    return ok


def _check_count_free(problem: Problem, data: ModelData) -> None:
    """Checks that do not depend on the cluster count."""
    rules, ids = problem.rules, problem.unit_ids
    for col in data.balance:
        missing = [ids[i] for i in np.flatnonzero(np.isnan(col.values)).tolist()]
        if missing:
            raise InputError(
                tr("precheck.balance_missing", column=col.name, n=len(missing), units=_names(missing)),
                file=problem.profiles.source,
            )
    if rules.min_size is not None and rules.max_size is not None and rules.min_size > rules.max_size:
        raise InfeasibleError(
            tr("precheck.sizes_crossed", min_size=rules.min_size, max_size=rules.max_size),
            rules=["size"],
        )
    if rules.contiguous and problem.graph is None:
        raise InfeasibleError(tr("precheck.no_graph"), rules=["contiguous"])
    for block in data.blocks:
        if rules.max_size is not None and len(block) > rules.max_size:
            raise InfeasibleError(
                tr("precheck.together_big", units=_names([ids[i] for i in block]), size=len(block), max_size=rules.max_size),
                rules=["together", "size"],
            )
        labels = {lab for i in block if (lab := data.fixed[i]) is not None}
        if len(labels) > 1:
            a, b = [next(i for i in block if data.fixed[i] == lab) for lab in sorted(labels)[:2]]
            raise InfeasibleError(
                tr("precheck.fixed_conflict", a=ids[a], la=data.fixed[a], b=ids[b], lb=data.fixed[b]),
                rules=["fixed", "together"],
            )
        if data.one_region and len({data.regions[i] for i in block} - {None}) > 1:
            raise InfeasibleError(
                tr("precheck.together_regions", units=_names([ids[i] for i in block])),
                rules=["one_region", "together"],
            )
        if data.one_function and all(data.functions[i] for i in block) and not frozenset.intersection(
                *(data.functions[i] for i in block)):
            # (a unit without a function is refused below, with its own message)
            raise InfeasibleError(
                tr("precheck.together_functions", units=_names([ids[i] for i in block])),
                rules=["one_function", "together"],
            )
    for group in data.apart:
        seen: dict[int, int] = {}
        for i in group:
            b = data.block_of[i]
            if b >= 0 and b in seen:
                raise InfeasibleError(
                    tr("precheck.together_apart", a=ids[seen[b]], b=ids[i]),
                    rules=["together", "apart"],
                )
            if b >= 0:
                seen[b] = i
    if data.one_function:
        bare = [ids[i] for i in range(data.n) if not data.functions[i]]
        if bare:
            raise InfeasibleError(
                tr("precheck.no_function", units=_names(bare)), rules=["one_function"]
            )


def count_problem(problem: Problem, data: ModelData, k: int) -> InfeasibleError | None:
    """The first reason ``k`` clusters cannot work, or None."""
    rules, ids, n = problem.rules, problem.unit_ids, data.n
    if k > n:
        return InfeasibleError(tr("precheck.too_many_clusters", k=k, n=n), rules=["count"])
    if rules.max_size is not None and k * rules.max_size < n:
        return InfeasibleError(
            tr("precheck.max_size", k=k, max_size=rules.max_size, cap=k * rules.max_size, n=n),
            rules=["count", "size"],
        )
    if rules.min_size is not None and k * rules.min_size > n:
        return InfeasibleError(
            tr("precheck.min_size", k=k, min_size=rules.min_size, need=k * rules.min_size, n=n),
            rules=["count", "size"],
        )
    for col in data.balance:
        _, hi = col.band(k)
        top = int(np.argmax(col.values))
        if col.values[top] > hi:
            return InfeasibleError(
                tr("precheck.balance_unit", column=col.name, tol=col.tol, k=k, hi=_num(hi), unit=ids[top],
                   value=_num(float(col.values[top]))),
                rules=["balance"],
            )
    if len(data.fixed_labels) > k:
        return InfeasibleError(
            tr("precheck.fixed_labels", n_labels=len(data.fixed_labels), k=k), rules=["fixed", "count"]
        )
    for group in data.apart:
        if len(group) > k:
            return InfeasibleError(
                tr("precheck.apart_big", units=_names([ids[i] for i in group]), size=len(group), k=k),
                rules=["apart", "count"],
            )
    if rules.max_moves is not None:
        need, keep = fewest_moves(data, k, rules.max_size)
        if need > rules.max_moves:
            return InfeasibleError(
                tr("precheck.max_moves", limit=rules.max_moves, k=k, need=need, keep=keep),
                rules=["max_moves", "count"],
            )
        need, groups, unknown = new_cluster_moves(data, k, rules.min_size or 1)
        if need > rules.max_moves:
            return InfeasibleError(
                tr("precheck.max_moves_new", limit=rules.max_moves, groups=groups, k=k,
                   new=k - groups, min_size=rules.min_size or 1, need=need,
                   unknown=tr("precheck.max_moves_unknown", n=unknown) if unknown else ""),
                rules=["max_moves", "count", "size"],
            )
    if rules.contiguous and problem.graph is not None:
        components = list(nx.connected_components(problem.graph.subgraph(ids)))
        if len(components) > k:
            return InfeasibleError(tr("precheck.components", c=len(components), k=k), rules=["contiguous", "count"])
        if rules.min_size is not None:
            for comp in components:
                if len(comp) < rules.min_size:
                    unit = min(comp, key=ids.index)
                    return InfeasibleError(
                        tr("precheck.component_small", unit=unit, size=len(comp), min_size=rules.min_size),
                        rules=["contiguous", "size"],
                    )
        if rules.min_size is not None and rules.min_size > 1:
            err = _heavy_neighbourhood(problem, data, k, rules.min_size)
            if err is not None:
                return err
    if data.one_region:
        sizes: dict[str, int] = {}
        for r in data.regions:
            if r is not None:
                sizes[r] = sizes.get(r, 0) + 1
        cap = rules.max_size or n
        need = sum(math.ceil(s / cap) for s in sizes.values())
        if need > k:
            detail = ", ".join(f"{r}: {s}" for r, s in sizes.items())
            return InfeasibleError(tr("precheck.regions", need=need, detail=detail, k=k), rules=["one_region", "count"])
        if rules.min_size is not None and None not in data.regions:
            for r, s in sizes.items():
                if s < rules.min_size:
                    return InfeasibleError(
                        tr("precheck.region_small", region=r or "—", size=s, min_size=rules.min_size),
                        rules=["one_region", "size"],
                    )
    if data.one_function:
        clique = _disjoint_function_units(data)
        if len(clique) > k:
            return InfeasibleError(
                tr("precheck.functions", units=_names([ids[i] for i in clique]), need=len(clique), k=k),
                rules=["one_function", "count"],
            )
    return _block_problem(problem, data, k) or _company_problem(problem, data, k)


def _block_problem(problem: Problem, data: ModelData, k: int) -> InfeasibleError | None:
    """one_region / one_function when every unit belongs to exactly one block: the reason
    no whole number of clusters per block fits sizes and bands, or None.

    Why: each block is then split on its own, into ``g`` clusters that need
    ``g × min_size ≤ units ≤ g × max_size`` and ``g × low ≤ total ≤ g × high``
    for each balanced column; the ``g`` a block allows form a range, so ``k``
    works only if it lies between the sums of the ranges' ends. A 400-unit
    table in 49 clusters, one_function and population ±60 % ran to "no plan in
    30 s; try 120 s" — no count fitted its 10-unit function.
    """
    rules, n = problem.rules, data.n
    keys: list[tuple] = [() for _ in range(n)]
    if data.one_region:
        if any(r is None for r in data.regions):
            return None  # a unit without a region may join any: no exact blocks
        keys = [key + (r,) for key, r in zip(keys, data.regions)]
    if data.one_function:
        if any(len(f) != 1 for f in data.functions):
            return None  # several functions: a unit may join more than one block
        keys = [key + (next(iter(f)),) for key, f in zip(keys, data.functions)]
    if not (data.one_region or data.one_function):
        return None
    rule = "one_region" if not data.one_function else (
        "one_function" if not data.one_region else "one_region + one_function")
    kind = tr("precheck.kind_" + ("region" if not data.one_function else
                                  "function" if not data.one_region else "both"))
    min_size, max_size = rules.min_size or 1, rules.max_size or n
    members: dict[tuple, list[int]] = {}
    for i, key in enumerate(keys):
        members.setdefault(key, []).append(i)
    band = np.array([col.band(k) for col in data.balance], dtype=np.float64).reshape(-1, 2)
    low = high = 0
    for key in sorted(members):
        units = members[key]
        size = len(units)
        totals = np.array([col.values[units].sum() for col in data.balance])
        g_lo, g_hi = count_range(size, totals, min_size, max_size, band[:, 0], band[:, 1])
        if g_lo > g_hi:
            cols = data.balance
            totals = "".join(tr("precheck.block_total", column=c.name,
                                total=_num(float(c.values[units].sum()))) for c in cols)
            bands = "".join(tr("precheck.block_band", column=c.name, lo=_num(c.band(k)[0]),
                               hi=_num(c.band(k)[1])) for c in cols)
            return InfeasibleError(
                tr("precheck.block_alone", rule=rule, kind=kind, name=" / ".join(key), size=size,
                   totals=totals, min_size=min_size, max_size=max_size, bands=bands),
                rules=[*rule.split(" + "), "size", *(["balance"] if cols else [])],
            )
        low, high = low + g_lo, high + g_hi
    if not low <= k <= high:
        balanced = tr("precheck.balanced") if data.balance else ""
        return InfeasibleError(
            tr("precheck.block_counts", rule=rule, kind=kind, balanced=balanced, low=low,
               high=high, k=k),
            rules=[*rule.split(" + "), "count", "size", *(["balance"] if data.balance else [])],
        )
    return None


def _company_problem(problem: Problem, data: ModelData, k: int) -> InfeasibleError | None:
    """one_region / one_function: a unit whose possible cluster-mates are too few or too light.

    Why: a unit of region *r* and functions *F* can only share a cluster with
    units of region *r* (or none) that have one of *F* — for each *f* of *F*
    those units bound any cluster holding it: fewer than ``min_size`` of them,
    or a total (its ``max_size`` largest) under a band's floor, and no plan
    exists. The block check above needs every unit in exactly one block; this
    one holds with units of several functions too (3 300 units, 200 clusters
    of 10–25, both rules: five education-only units in a region with two more
    education units ran to "no plan in 30 s; try 120").
    """
    if not (data.one_region or data.one_function):
        return None
    rules, ids, n = problem.rules, problem.unit_ids, data.n
    min_size, max_size = rules.min_size or 1, rules.max_size or n
    floors = [(col, col.band(k)[0]) for col in data.balance if col.band(k)[0] > 0]
    if min_size <= 1 and not floors:
        return None
    active = [r for r, on in (("one_region", data.one_region),
                              ("one_function", data.one_function)) if on]
    rule, drop = " + ".join(active), tr("precheck.company_or").join(active)
    regions = np.array([r if r is not None else "" for r in data.regions], dtype=object)
    by_key: dict[tuple[str, str | None], np.ndarray] = {}

    def company(region: str, function: str | None) -> np.ndarray:
        """Units a cluster of this region (\"\" = any) and function (None = any) may hold."""
        key = (region, function)
        if key not in by_key:
            ok = np.ones(n, dtype=bool)
            if data.one_region and region:
                ok &= (regions == region) | (regions == "")
            if function is not None:
                ok &= np.array([function in fs for fs in data.functions])
            by_key[key] = np.flatnonzero(ok)
        return by_key[key]

    totals: dict[tuple[str, str | None, str], float] = {}

    def largest_total(region: str, function: str | None, col) -> float:
        """The most a cluster of such units can total in ``col`` (its max_size largest)."""
        key = (region, function, col.name)
        if key not in totals:
            values = col.values[company(region, function)]
            totals[key] = float(np.sort(values)[::-1][:max_size].sum())
        return totals[key]

    def detail(region: str, function: str | None) -> str:
        parts = []
        if data.one_region and region:
            parts.append(tr("precheck.company_region", region=region))
        if function is not None:
            parts.append(tr("precheck.company_function", function=function))
        return tr("precheck.company_and").join(parts)

    for i in range(n):
        region = regions[i] if data.one_region else ""
        options = sorted(data.functions[i]) if data.one_function else [None]
        if not options:
            continue  # no function: the one_function check names it elsewhere
        groups = [(f, company(region, f)) for f in options]
        f, largest = max(groups, key=lambda g: len(g[1]))
        if len(largest) < min_size:
            return InfeasibleError(
                tr("precheck.company_size", rule=rule, unit=ids[i], detail=detail(region, f),
                   size=len(largest), min_size=min_size, drop=drop),
                rules=[*rule.split(" + "), "size"],
            )
        for col, lo in floors:
            reach = [(largest_total(region, f, col), f) for f, _ in groups]
            total, f = max(reach, key=lambda r: r[0])
            if total < lo * (1 - 1e-9):
                return InfeasibleError(
                    tr("precheck.company_balance", rule=rule, unit=ids[i],
                       detail=detail(region, f), max_size=max_size, column=col.name,
                       total=_num(total), lo=_num(lo), tol=col.tol, drop=drop),
                    rules=[*rule.split(" + "), "size", "balance"],
                )
    return None


def fewest_moves(data: ModelData, k: int, max_size: int | None) -> tuple[int, int]:
    """At least how many units must leave their known current cluster with ``k`` clusters, and
    at most how many can stay.

    A unit stays when its new cluster carries its current cluster's label, and
    each cluster carries one label: the best case keeps the ``k`` largest
    current clusters, each up to ``max_size`` units.
    """
    known = np.asarray(data.current, dtype=np.int64)
    known = known[known >= 0]
    cap = max_size if max_size is not None else data.n
    keep = int(np.sort(np.minimum(np.bincount(known), cap))[::-1][:k].sum())
    return len(known) - keep, keep



def new_cluster_moves(data: ModelData, k: int, min_size: int) -> tuple[int, int, int]:
    """At least how many units must leave their current cluster to fill the clusters beyond
    the current count, with that count and the units of no current cluster.

    With ``g < k`` current groups, ``k − g`` clusters carry no current name,
    so each of their at least ``min_size`` units is moved or has no current
    group (3 300 units in 412 groups of 8, 550 clusters of 5–7: at least 690
    moves, where :func:`fewest_moves` says 416).
    """
    groups = len({g for g in data.current if g >= 0})
    unknown = sum(1 for g in data.current if g < 0)
    if groups == 0:
        return 0, 0, unknown
    return max((k - groups) * min_size - unknown, 0), groups, unknown


def forced_moves(data: ModelData, k: int, min_size: int | None, max_size: int | None) -> int:
    """Units every plan with ``k`` clusters moves, by the two counts above (a lower bound
    the large path adds, priced, to the dispersion bound under a stability weight)."""
    return max(fewest_moves(data, k, max_size)[0], new_cluster_moves(data, k, min_size or 1)[0])

#: Under contiguity, the heaviest units of each balanced column checked for a
#: connected neighbourhood that already tops the band (each check enumerates
#: connected sets of min_size units; measured ~0.1 s for 5 units at 300 units).
HEAVY_UNITS_CHECKED = 5


def _heavy_neighbourhood(
    problem: Problem, data: ModelData, k: int, min_size: int
) -> InfeasibleError | None:
    """A heavy unit whose every connected min_size-group tops the band (contiguity).

    A contiguous cluster of at least ``min_size`` units holding unit *u*
    contains a connected group of exactly ``min_size`` units holding *u*
    (grow it from *u* inside the cluster), so with non-negative values its
    total is at least the lightest such group's. At 300 sample units the
    heaviest unit is 1.61× the mean but every connected 5-group around it is
    ≥ 1.87×: ±75 % cannot hold, though the unit alone fits.
    """
    from optimizer.contiguous_graph import lightest_connected_total

    if data.neighbors is None:
        return None
    ids = problem.unit_ids
    for col in data.balance:
        values = np.nan_to_num(col.values)
        if (values < 0).any():
            continue
        _, hi = col.band(k)
        mean = float(values.sum()) / k
        for unit in np.argsort(-values, kind="stable")[:HEAVY_UNITS_CHECKED].tolist():
            total = lightest_connected_total(unit, data.neighbors, values, min_size)
            if total > hi and np.isfinite(total):
                return InfeasibleError(
                    tr("precheck.balance_contiguous", column=col.name, tol=col.tol, k=k,
                       min_size=min_size, hi=_num(hi), unit=ids[unit], total=_num(total),
                       need=total / mean - 1.0 if mean > 0 else float("inf")),
                    rules=["balance", "contiguous", "size"],
                )
    return None


def _num(value: float) -> str:
    """A whole number with the current language's separators (216.996 / 216,996)."""
    from optimizer.describe import format_number

    return format_number(round(value), decimals=0)


def _disjoint_function_units(data: ModelData) -> list[int]:
    """Greedy set of units no two of which share a function (each needs its own cluster)."""
    chosen: list[int] = []
    order = sorted(range(data.n), key=lambda i: (len(data.functions[i]), i))
    for i in order:
        if all(not (data.functions[i] & data.functions[j]) for j in chosen):
            chosen.append(i)
    return chosen
