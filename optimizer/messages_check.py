"""Messages of :mod:`optimizer.check` in Vietnamese and English.

Kept apart from the rule checks (module size); registering at import time is
enough, :mod:`optimizer.check` imports this module.
"""

from __future__ import annotations

from features.i18n import register

register(
    {
        "check.more": {"vi": "... và {n} mục khác", "en": "... and {n} more"},
        "check.partition.missing": {
            "vi": "{n} đơn vị chưa được xếp vào cụm nào: {units}",
            "en": "{n} unit(s) are in no cluster: {units}",
        },
        "check.partition.unknown": {
            "vi": "phương án chứa {n} đơn vị không có trong bảng: {units}",
            "en": "the plan holds {n} unit(s) that are not in the table: {units}",
        },
        "check.clusters.bad_id": {
            "vi": "mã cụm phải từ 0 đến {last}; gặp {ids}",
            "en": "cluster ids must be 0..{last}; found {ids}",
        },
        "check.clusters.empty": {
            "vi": "cụm {labels} không có đơn vị nào",
            "en": "cluster(s) {labels} have no unit",
        },
        "check.clusters.count": {
            "vi": "phương án có {k} cụm; quy tắc cho phép {allowed}",
            "en": "the plan has {k} clusters; the rules allow {allowed}",
        },
        "check.clusters.duplicate_label": {
            "vi": "tên cụm bị trùng: {labels}",
            "en": "duplicate cluster labels: {labels}",
        },
        "check.min_size": {
            "vi": "cụm '{label}' có {size} đơn vị, ít hơn tối thiểu {limit}",
            "en": "cluster '{label}' has {size} unit(s), fewer than the minimum {limit}",
        },
        "check.max_size": {
            "vi": "cụm '{label}' có {size} đơn vị, nhiều hơn tối đa {limit}",
            "en": "cluster '{label}' has {size} unit(s), more than the maximum {limit}",
        },
        "check.balance": {
            "vi": "cụm '{label}': tổng '{column}' = {total:,.6g} nằm ngoài khoảng "
            "[{low:,.6g}; {high:,.6g}] (trung bình {mean:,.6g} ± {pct:g}%)",
            "en": "cluster '{label}': total '{column}' = {total:,.6g} is outside "
            "[{low:,.6g}, {high:,.6g}] (mean {mean:,.6g} ± {pct:g}%)",
        },
        "check.balance.missing": {
            "vi": "cột '{column}' dùng để cân bằng nhưng có ô trống: {units}",
            "en": "column '{column}' is balanced but has empty cells: {units}",
        },
        "check.contiguous.no_graph": {
            "vi": "yêu cầu cụm liền kề nhưng không có tệp kề nhau (adjacency)",
            "en": "contiguity is required but no adjacency file was given",
        },
        "check.contiguous": {
            "vi": "cụm '{label}' không liền kề: tách thành {n} phần; phần tách rời: {units}",
            "en": "cluster '{label}' is not contiguous: {n} pieces; detached: {units}",
        },
        "check.one_region": {
            "vi": "cụm '{label}' trải trên nhiều vùng: {regions}",
            "en": "cluster '{label}' spans several regions: {regions}",
        },
        "check.one_function.missing": {
            "vi": "chế độ khối cần chức năng của mọi đơn vị; thiếu ở: {units}",
            "en": "block mode needs every unit's function; missing for: {units}",
        },
        "check.one_function": {
            "vi": "các đơn vị trong cụm '{label}' không có chức năng chung: {functions}",
            "en": "the units of cluster '{label}' share no function: {functions}",
        },
        "check.together": {
            "vi": "nhóm phải chung cụm {group} bị tách ra {n} cụm",
            "en": "group {group} must share a cluster but is split over {n} clusters",
        },
        "check.apart": {
            "vi": "{a} và {b} phải khác cụm nhưng cùng ở cụm '{label}'",
            "en": "{a} and {b} must be in different clusters but share '{label}'",
        },
        "check.fixed.split": {
            "vi": "các đơn vị cố định vào '{label}' bị tách ra {n} cụm: {units}",
            "en": "units fixed to '{label}' are split over {n} clusters: {units}",
        },
        "check.fixed.merged": {
            "vi": "các nhãn cố định {labels} lại rơi vào cùng một cụm",
            "en": "fixed labels {labels} ended up in the same cluster",
        },
        "check.fixed.label": {
            "vi": "đơn vị cố định vào '{label}' nằm trong cụm mang tên '{actual}'",
            "en": "units fixed to '{label}' are in a cluster labelled '{actual}'",
        },
        "check.max_moves": {
            "vi": "{n} đơn vị đổi cụm, vượt giới hạn {limit}: {units}",
            "en": "{n} unit(s) change cluster, more than the limit {limit}: {units}",
        },
    }
)
