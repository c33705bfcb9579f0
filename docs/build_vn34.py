"""Derive the bundled 34-province unit table and adjacency from the shared source data.

Why a script: the bundled files ship inside the package and go into official
planning; anyone must be able to redo the derivation and see that nothing was
invented. Values are copied as text from the source (empty stays empty); only
the province code is zero-padded to two digits and the adjacency is rewritten
from names to those codes.

Usage::

    python docs/build_vn34.py [SOURCE_DIR] [OUT_DIR]

``SOURCE_DIR`` defaults to ``/work/shared/data/vn34`` (``provinces.csv``,
``adjacency.csv``, ``README.md``); ``OUT_DIR`` to ``scenarios/bundled/vn34``.
Outputs are UTF-8 with a byte-order mark so Excel shows the diacritics.
"""

from __future__ import annotations

import csv
import io
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = Path("/work/shared/data/vn34")
DEFAULT_OUT = ROOT / "scenarios" / "bundled" / "vn34"

#: (output column, source column); ``unit_id`` and ``function`` are derived below.
COPIED = (
    ("name", "name"),
    ("function", "division_type"),
    ("region", "region_6"),
    ("lat", "lat"),
    ("lon", "lon"),
    ("population", "population"),
    ("area_km2", "area_km2"),
    ("n_wards_communes", "n_wards_communes"),
    ("n_merged", "n_merged"),
    ("grdp_2024_mn_vnd", "grdp_2024_mn_vnd"),
    ("budget_revenue_2024_mn_vnd", "budget_revenue_2024_mn_vnd"),
    ("income_per_capita_mn_vnd_year", "income_per_capita_mn_vnd_year"),
)

SOURCES_HEADER = """\
# Sources of the bundled 34-province data

`units.csv` and `adjacency.csv` are derived from the shared source tables by
`docs/build_vn34.py` (rerun it to reproduce them). Nothing is invented: a cell
the sources leave empty is empty here too.

Derivation:
- `unit_id` is the province code zero-padded to two digits (`01` Hà Nội … `96` Cà Mau).
- `function` is the division type (`tỉnh` or `thành phố trung ương`).
- `region` is `region_6`; it is empty for the 7 provinces whose merged parts span two
  regions (Bắc Ninh, Phú Thọ, Quảng Ngãi, Gia Lai, Đắk Lắk, Lâm Đồng, Tây Ninh).
- `population`, `area_km2`, `lat`, `lon` come from the 2025 merger portal table;
  `grdp_2024_mn_vnd`, `budget_revenue_2024_mn_vnd` and `income_per_capita_mn_vnd_year`
  (million VND) are empty for the 7 provinces without a published figure.
- There is no `current_cluster` column: no official grouping is in the data.
- `adjacency.csv` lists the 58 land-border pairs as `a,b` unit ids.

The source notes follow, as written with the source data.

---

"""


def _text(value: str) -> str:
    return unicodedata.normalize("NFC", value.strip())


def _code(value: str) -> str:
    return str(int(value)).zfill(2)


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def build(source: Path = DEFAULT_SOURCE, out: Path = DEFAULT_OUT) -> None:
    """Write ``units.csv``, ``adjacency.csv`` and ``SOURCES.md`` into ``out``."""
    with (source / "provinces.csv").open(encoding="utf-8-sig", newline="") as handle:
        provinces = list(csv.DictReader(handle))
    units = [["unit_id", *(column for column, _ in COPIED)]]
    codes = set()
    for row in provinces:
        code = _code(row["code"])
        codes.add(code)
        units.append([code, *(_text(row[src]) for _, src in COPIED)])
    with (source / "adjacency.csv").open(encoding="utf-8-sig", newline="") as handle:
        borders = list(csv.DictReader(handle))
    pairs = [["a", "b"]]
    for row in borders:
        a, b = _code(row["a_code"]), _code(row["b_code"])
        if a not in codes or b not in codes or a == b:
            raise SystemExit(
                f"adjacency row {row} names an unknown code or a self-pair"
            )
        pairs.append([a, b])
    out.mkdir(parents=True, exist_ok=True)
    (out / "units.csv").write_bytes(_csv(units).encode("utf-8-sig"))
    (out / "adjacency.csv").write_bytes(_csv(pairs).encode("utf-8-sig"))
    notes = (source / "README.md").read_text(encoding="utf-8")
    (out / "SOURCES.md").write_text(SOURCES_HEADER + notes, encoding="utf-8")
    print(f"wrote {len(units) - 1} units and {len(pairs) - 1} pairs to {out}")


if __name__ == "__main__":
    arguments = [Path(a) for a in sys.argv[1:3]]
    build(*arguments)
