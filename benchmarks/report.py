"""Medians over seeds, ratios against the baselines, markdown and terminal tables.

Why medians of the per-run rows (and worst cases for violations): one slow
seed on a shared 2-core machine should not decide a speed ratio, but a rule
broken on *any* seed is a broken rule, so violation columns report the worst
run, never a median.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

METHOD_ORDER = {"kmeans": 0, "kmc": 1, "plain_cpsat": 2, "plain_lp": 3, "cumkhoi": 4}
METHOD_LABEL = {
    "kmeans": "KMeans (no rules)",
    "kmc": "k-means-constrained",
    "plain_cpsat": "plain CP-SAT",
    "plain_lp": "plain CP-SAT, LP bound",
    "cumkhoi": "cumkhoi",
}
#: Methods whose status can be a proof (OPTIMAL): they get a ``proven`` count.
PROVING_METHODS = ("plain_cpsat", "cumkhoi")
#: Status of a plain-model LP row that solved: its ``dispersion`` is a bound.
LP_BOUND = "LP bound"
COLUMNS = (
    "n_units",
    "n_clusters",
    "scenario",
    "method",
    "runs",
    "status",
    "proven",
    "dispersion",
    "disp_vs_kmeans",
    "disp_vs_kmc",
    "disp_vs_plain",
    "size_excess_worst",
    "pop_dev",
    "pop_excess_worst",
    "rules_ok",
    "time_s",
    "time_vs_kmc",
    "peak_mb",
    "gap",
)


def _median_time(group: pd.DataFrame) -> float:
    """Median wall seconds; runs killed at the cap (or without a plan) count as +inf."""
    times = group["time_s"].astype(float).to_numpy()
    capped = group["status"].astype(str).str.startswith(">").to_numpy()
    times = np.where(capped, np.inf, times)
    times = times[~np.isnan(times)]
    return float(np.median(times)) if times.size else math.nan


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (size, scenario, method) with medians, worst violations and ratios."""
    out: list[dict[str, object]] = []
    for (n_units, scenario, method), group in rows.groupby(
        ["n_units", "scenario", "method"], sort=False
    ):
        disp = group["dispersion"].astype(float)
        planned = disp.notna()
        statuses = group["status"].astype(str)
        rules_ok = group["rules_ok"].astype(bool)
        out.append(
            {
                "n_units": int(n_units),
                "n_clusters": int(group["n_clusters"].iloc[0]),
                "scenario": scenario,
                "method": method,
                "runs": f"{int(planned.sum())}/{len(group)}",
                "status": statuses.mode().iloc[0],
                "dispersion": float(disp[planned].median())
                if planned.any()
                else math.nan,
                "size_excess_worst": float(group["size_excess"].astype(float).max()),
                "pop_dev": float(group["pop_dev"].astype(float).median()),
                "pop_excess_worst": float(group["pop_excess"].astype(float).max()),
                "proven": f"{int((statuses == 'OPTIMAL').sum())}/{len(group)}"
                if method in PROVING_METHODS
                else "—",
                "rules_ok": _rules_ok(method, statuses, rules_ok),
                "time_s": _median_time(group),
                "peak_mb": float(group["peak_mb"].astype(float).median()),
                "gap": float(group["gap"].astype(float).median()),
                "note": "; ".join(
                    sorted({str(n) for n in group["note"][~planned] if _text(n)})
                ),
            }
        )
    summary = pd.DataFrame(out)
    if summary.empty:
        return pd.DataFrame(columns=[*COLUMNS, "note"])

    def ref(n_units: int, scenario: str, method: str, column: str) -> float:
        hit = summary[
            (summary.n_units == n_units)
            & (summary.scenario == scenario)
            & (summary.method == method)
        ]
        return float(hit[column].iloc[0]) if len(hit) else math.nan

    def ratio(a: float, b: float) -> float:
        if math.isnan(a) or math.isnan(b) or b == 0 or math.isinf(b):
            return math.nan
        return a / b

    summary["disp_vs_kmeans"] = [
        ratio(r.dispersion, ref(r.n_units, r.scenario, "kmeans", "dispersion"))
        for r in summary.itertuples()
    ]
    summary["disp_vs_kmc"] = [
        ratio(r.dispersion, ref(r.n_units, "S", "kmc", "dispersion"))
        if r.scenario == "S"
        else math.nan
        for r in summary.itertuples()
    ]
    summary["disp_vs_plain"] = [
        ratio(r.dispersion, ref(r.n_units, r.scenario, "plain_cpsat", "dispersion"))
        for r in summary.itertuples()
    ]
    summary["time_vs_kmc"] = [
        ratio(r.time_s, ref(r.n_units, "S", "kmc", "time_s"))
        if r.scenario == "S"
        else math.nan
        for r in summary.itertuples()
    ]
    # an LP bound is not a plan: only its ratio to the plain model it relaxes is read
    is_lp = summary["method"] == "plain_lp"
    summary.loc[is_lp, ["disp_vs_kmeans", "disp_vs_kmc", "time_vs_kmc"]] = math.nan
    summary["_order"] = summary["method"].map(METHOD_ORDER)
    summary = summary.sort_values(
        ["n_units", "scenario", "_order"], ascending=[True, False, True]
    )
    return summary[[*COLUMNS, "note"]].reset_index(drop=True)


def _text(value: object) -> bool:
    """True for a real note (not NaN from a CSV, not empty)."""
    return isinstance(value, str) and value.strip() != ""


def _rules_ok(method: str, statuses: pd.Series, rules_ok: pd.Series) -> str:
    """'yes', 'no (failed/seeds)', 'n/a' (not run) or '—' (an LP bound has no plan)."""
    if (statuses == "n/a").all():
        return "n/a"
    if method == "plain_lp":
        return "—"
    if rules_ok.all():
        return "yes"
    return f"no ({int((~rules_ok).sum())}/{len(statuses)})"


def _fmt(column: str, value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        if math.isinf(value):
            return "> cap"
        if column in ("dispersion", "pop_dev", "gap", "pop_excess_worst"):
            return f"{value:.3f}"
        if column in ("size_excess_worst", "peak_mb"):
            return f"{value:.0f}"
        if column.startswith(("disp_vs", "time_vs")):
            return f"{value:.2f}×"
        return f"{value:.1f}"
    if column == "method":
        return METHOD_LABEL.get(str(value), str(value))
    return str(value)


def formatted(summary: pd.DataFrame) -> list[list[str]]:
    """Cells as printed: fixed decimals, '—' for not applicable, '> cap' for killed."""
    return [
        [_fmt(c, v) for c, v in zip(COLUMNS, row, strict=True)]
        for row in summary[list(COLUMNS)].itertuples(index=False)
    ]


def render_markdown(summary: pd.DataFrame, header: str) -> str:
    """A GitHub-markdown table preceded by the run's provenance line."""
    lines = [
        f"# cumkhoi benchmark\n\n{header}\n",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(cells) + " |" for cells in formatted(summary)]
    notes = footnotes(summary)
    if notes:
        lines += ["", "Runs without a plan or bound:", ""] + [f"* {n}" for n in notes]
    return "\n".join(lines) + "\n"


def footnotes(summary: pd.DataFrame) -> list[str]:
    """Why a row has no number (not run, too big, no plan): its runs' notes."""
    if "note" not in summary:
        return []
    return [
        f"{r.n_units} units, {r.scenario}, {METHOD_LABEL.get(r.method, r.method)}: {r.note}"
        for r in summary.itertuples()
        if _text(r.note)
    ]


def print_table(summary: pd.DataFrame, header: str) -> None:
    """The same table in the terminal (rich)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=header, show_lines=False)
    for column in COLUMNS:
        table.add_column(
            column,
            justify="left"
            if column in ("scenario", "method", "runs", "status", "rules_ok")
            else "right",
        )
    for cells in formatted(summary):
        table.add_row(*cells)
    console = Console(width=250)
    console.print(table)
    for note in footnotes(summary):
        console.print(f"  {note}", markup=False)
