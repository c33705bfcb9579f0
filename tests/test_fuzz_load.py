"""Hypothesis on the loaders: messy-but-plausible tables never crash and never lose a unit.

Where ``test_load`` feeds random bytes, these tables look like real exports:
known headers, Vietnamese text, numbers in every local spelling, formulas,
quotes, stray separators, blank rows, three encodings. Each must either load
with every non-blank row present exactly once, or fail with an ``InputError``
that says where.
"""

from __future__ import annotations

import csv
import datetime
import io
import math
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.errors import ClusterAssignError, InputError
from features.load import load_adjacency, load_units
from scenarios.cli import main

HEADERS = [
    "unit_id",
    "name",
    "function",
    "region",
    "lat",
    "lon",
    "population",
    "area_km2",
    "current_cluster",
    "Mã",
    "tên",
    "population ",
    "",
    "unit_id",
]
CELLS = st.sampled_from(
    [
        "01",
        "1",
        "01 ",
        "Hà Nội",
        "Ha\u0300 No\u0323i",
        "HÀ NỘI",
        "",
        " ",
        "8000",
        "8.000",
        "8,000",
        "1.234,5",
        "-3",
        "1e400",
        "NaN",
        "inf",
        "=1+1",
        "+84",
        "@x",
        "#VALUE!",
        "21.03",
        "105.8",
        "999",
        "thành phố;công nghiệp",
        "Cụm 1",
        '"',
        "a,b",
        "x;y",
        "\t",
        "—",
        "\u00a0",
        "0x10",
    ]
) | st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@st.composite
def tables(draw: st.DrawFn) -> tuple[bytes, int, str]:
    """(file bytes, number of non-blank data rows, encoding) of a plausible unit table."""
    base = ["unit_id", "name"] if draw(st.booleans()) else []
    header = base + draw(st.lists(st.sampled_from(HEADERS), max_size=5))
    n_rows = draw(st.integers(min_value=0, max_value=8))
    rows = [[draw(CELLS) for _ in header] for _ in range(n_rows)]
    if draw(st.booleans()) and "unit_id" in header:  # often: distinct well-formed ids
        for i, row in enumerate(rows):
            row[header.index("unit_id")] = f"{i + 1:02d}"
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=delimiter,
        lineterminator=draw(st.sampled_from(["\n", "\r\n"])),
    )
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
    blank = sum(1 for row in rows if not any(c.strip() for c in row))
    return text.encode(encoding), n_rows - blank, encoding


def _check_error(err: ClusterAssignError, name: str) -> None:
    assert str(err).strip()
    if isinstance(err, InputError):
        assert err.problems
        assert all(p.file == name and p.message for p in err.problems)


@given(table=tables())
@FUZZ
def test_loaded_tables_keep_every_row(
    table: tuple[bytes, int, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A table either loads with each non-blank row once (ids NFC, figures finite) or is an InputError."""
    data, n_rows, _ = table
    path = tmp_path_factory.mktemp("fuzz") / "units.csv"
    path.write_bytes(data)
    try:
        profiles = load_units(path)
    except ClusterAssignError as err:
        _check_error(err, "units.csv")
        return
    frame = profiles.frame
    assert profiles.n_units == n_rows == len(frame)
    assert frame.index.is_unique
    assert all(
        u == unicodedata.normalize("NFC", u) and u.strip() == u and u
        for u in frame.index
    )
    for column in profiles.numeric_columns:
        values = frame[column].to_numpy(dtype=float)
        assert all(math.isnan(v) or (math.isfinite(v) and v >= 0) for v in values)
    if profiles.has_location:
        assert frame["lat"].abs().max() <= 90 and frame["lon"].abs().max() <= 180


@given(
    pairs=st.lists(st.tuples(CELLS, CELLS), max_size=8),
    header=st.sampled_from(["a,b\n", "u,v\n", "", "unit_id;neighbor\n"]),
)
@FUZZ
def test_adjacency_pairs_are_known_distinct_units(
    pairs: list[tuple[str, str]], header: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Adjacency loads only pairs of two different known ids, or raises an InputError."""
    ids = ["01", "02", "03", "Hà Nội"]
    folder = tmp_path_factory.mktemp("adj")
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(pairs)
    (folder / "adjacency.csv").write_text(header + buffer.getvalue(), encoding="utf-8")
    try:
        loaded = load_adjacency(folder / "adjacency.csv", ids)
    except ClusterAssignError as err:
        _check_error(err, "adjacency.csv")
        return
    for a, b in loaded:
        assert a in ids and b in ids and a != b
    assert len({frozenset(p) for p in loaded}) == len(loaded)


@given(table=tables())
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_validate_command_never_crashes(
    table: tuple[bytes, int, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """``cumkhoi validate`` on any such table exits 0 or 1, without a traceback."""
    data, _, _ = table
    path = tmp_path_factory.mktemp("cli") / "units.csv"
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["--lang", "en", "validate", str(path)])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_strategy_reaches_both_outcomes(tmp_path: Path) -> None:
    """Sanity: the fuzz space holds tables that load and tables that are refused."""
    good = "unit_id,name,population\n01,Hà Nội,8000\n02,Huế,1000\n"
    bad = "unit_id,name,population\n01,Hà Nội,-1\n01,Huế,1000\n"
    (tmp_path / "good.csv").write_text(good, encoding="utf-8")
    (tmp_path / "bad.csv").write_text(bad, encoding="utf-8")
    assert load_units(tmp_path / "good.csv").n_units == 2
    with pytest.raises(InputError):
        load_units(tmp_path / "bad.csv")


XLSX_CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**18), max_value=10**18),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.datetimes(min_value=datetime.datetime(1900, 3, 1)),
    st.sampled_from(["01", "Hà Nội", "=1/0", "=A1", "#N/A", "", " ", "8.000", "1,5"]),
)


@given(
    header=st.lists(st.sampled_from(HEADERS), min_size=1, max_size=5),
    rows=st.lists(st.lists(XLSX_CELLS, min_size=1, max_size=5), max_size=5),
    with_ids=st.booleans(),
)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_typed_workbook_cells_never_crash(
    header: list[str],
    rows: list[list[object]],
    with_ids: bool,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Dates, booleans, huge integers, formulas and Excel errors in XLSX cells: load or InputError."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append((["unit_id", "name"] if with_ids else []) + header)
    for i, row in enumerate(rows):
        sheet.append(([f"{i + 1:02d}", f"Đơn vị {i + 1}"] if with_ids else []) + row)
    path = tmp_path_factory.mktemp("xlsx") / "units.xlsx"
    book.save(path)
    blank = sum(
        1 for row in rows if not with_ids and all(c in (None, "", " ") for c in row)
    )
    try:
        profiles = load_units(path)
    except ClusterAssignError as err:
        _check_error(err, "units.xlsx")
        return
    assert profiles.n_units == len(rows) - blank
