"""Reading unit tables and adjacency files: encodings, separators, XLSX, file defects."""

from __future__ import annotations

import io
import math
import tempfile
import unicodedata
import warnings
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.errors import InputError
from features.i18n import language
from features.load import InputWarning, load_adjacency, load_units, read_table
from features.types import ColumnMapping

DATA = Path(__file__).parent / "data"
BAD = DATA / "bad"
SMALL_IDS = ("01", "02", "03", "04", "05", "06")


def test_good_small_table_layout(provinces_small):
    """The small table loads with the Profiles layout of features/types.py."""
    frame = provinces_small.frame
    assert list(frame.index) == list(SMALL_IDS)
    assert frame.index.name == "unit_id"
    assert list(frame.columns) == [
        "name",
        "functions",
        "region",
        "lat",
        "lon",
        "current_cluster",
        "population",
        "area_km2",
    ]
    assert provinces_small.numeric_columns == ("population", "area_km2")
    assert frame.loc["01", "functions"] == ("thành phố", "công nghiệp")
    assert frame.loc["06", "name"] == "Ninh Bình"
    assert frame["population"].sum() == 24000
    assert provinces_small.row_of["01"] == 2 and provinces_small.row_of["06"] == 7
    assert provinces_small.has_location and provinces_small.has_current
    assert provinces_small.warnings == ()


def test_good_small_adjacency(provinces_small_pairs):
    """The 7 grid edges are read in file order, header detected."""
    assert provinces_small_pairs[0] == ("01", "02")
    assert len(provinces_small_pairs) == 7


def test_windows_1258_file_is_decoded_and_composed():
    """A real cp1258 file (combining tone marks) reads as NFC Vietnamese text."""
    raw_bytes = (DATA / "units_cp1258.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw_bytes.decode("utf-8")
    table = read_table(DATA / "units_cp1258.csv")
    assert table.encoding == "cp1258"
    profiles = load_units(DATA / "units_cp1258.csv")
    names = list(profiles.frame["name"])
    assert names == ["Hà Nội", "Thanh Hóa", "Nghệ An", "Cà Mau"]
    assert all(unicodedata.is_normalized("NFC", n) for n in names)
    assert profiles.frame.loc["96", "region"] == "Đồng bằng sông Cửu Long"


def test_semicolon_and_decimal_comma():
    """';' is sniffed; with decimal_comma '8.718.000' and '21,0001' are read as numbers."""
    path = DATA / "units_semicolon_decimal_comma.csv"
    assert read_table(path).delimiter == ";"
    profiles = load_units(path, decimal_comma=True)
    frame = profiles.frame
    assert frame.loc["01", "population"] == 8_718_000
    assert frame.loc["08", "area_km2"] == 13_795.5
    assert frame.loc["01", "lat"] == pytest.approx(21.0001)
    assert frame.loc["04", "lon"] == pytest.approx(106.083)


def test_semicolon_file_without_decimal_comma_option_says_so():
    """Without the option, decimal-comma cells are errors whose hint names the option."""
    with language("en"), pytest.raises(InputError, match="decimal-comma option"):
        load_units(DATA / "units_semicolon_decimal_comma.csv")


def test_excel_sep_line_is_honoured(tmp_path):
    """A leading 'sep=;' line (written by Excel) sets the separator and is not row 1."""
    path = tmp_path / "units.csv"
    path.write_text(
        "sep=;\nunit_id;name;population\n01;A, B;1\n02;C;x\n03;D;3\n", "utf-8"
    )
    table = read_table(path)
    assert table.delimiter == ";" and table.header == ("unit_id", "name", "population")
    with language("en"), pytest.raises(InputError, match=r"row 3, column 'population'"):
        load_units(path)


def test_pipe_and_tab_separators_are_sniffed(tmp_path):
    """'|' and tab separated exports read like comma-separated ones."""
    for delimiter in ("|", "\t"):
        path = tmp_path / "units.csv"
        text = f"unit_id{delimiter}name{delimiter}population\n01{delimiter}A, B{delimiter}5\n"
        path.write_text(text, "utf-8")
        profiles = load_units(path)
        assert profiles.frame.loc["01", "name"] == "A, B"
        assert profiles.frame.loc["01", "population"] == 5


def test_bom_leading_zeros_and_multi_functions():
    """BOM is dropped from the first header; '01', '1', '001' are three ids; functions split."""
    profiles = load_units(DATA / "units_bom_leading_zeros.csv")
    assert read_table(DATA / "units_bom_leading_zeros.csv").header[0] == "unit_id"
    assert list(profiles.frame.index) == ["01", "1", "001"]
    assert profiles.frame.loc["01", "functions"] == ("thành phố", "công nghiệp")
    assert profiles.frame.loc["1", "functions"] == ()
    assert profiles.frame.loc["1", "region"] is None


def _write_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> None:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)


XLSX_ROWS = [
    ["unit_id", "name", "function", "lat", "lon", "population"],
    ["01", "Hà Nội", "thành phố", 21.0001, 105.698, 8718000],
    ["04", "Cao Bằng", "tỉnh", 22.7456, 106.083, 555809.5],
]


def test_xlsx_first_sheet_and_named_sheet(tmp_path):
    """XLSX: first sheet by default, a named sheet on request, text ids keep zeros."""
    path = tmp_path / "units.xlsx"
    _write_xlsx(path, {"Ghi chú": [["nothing here"]], "Tỉnh": XLSX_ROWS})
    with pytest.raises(InputError, match="Tỉnh"):
        load_units(path)  # first sheet has no unit_id column: the error names 'Tỉnh'
    profiles = load_units(path, sheet="Tỉnh")
    assert list(profiles.frame.index) == ["01", "04"]
    assert profiles.frame.loc["04", "population"] == 555809.5
    assert profiles.frame.loc["01", "lat"] == pytest.approx(21.0001)


def test_xlsx_table_on_second_sheet_is_pointed_at(tmp_path):
    """An instructions sheet first: one error naming the sheet that holds the table."""
    path = tmp_path / "units.xlsx"
    _write_xlsx(path, {"Hướng dẫn": [["Xem trang sau"]], "Tỉnh": XLSX_ROWS})
    with (
        language("en"),
        pytest.raises(InputError, match=r"sheet 'Tỉnh' has them") as info,
    ):
        load_units(path)
    assert len(info.value.problems) == 1
    assert 'sheet = "Tỉnh"' in str(info.value)


def test_xlsx_with_decimal_comma_keeps_numeric_cells(tmp_path):
    """Numeric XLSX cells are numbers whatever the decimal option says."""
    path = tmp_path / "units.xlsx"
    _write_xlsx(path, {"Sheet": XLSX_ROWS})
    profiles = load_units(path, decimal_comma=True)
    assert profiles.frame.loc["04", "population"] == 555809.5
    assert profiles.frame.loc["01", "lon"] == pytest.approx(105.698)


def test_xlsx_missing_sheet_lists_sheets(tmp_path):
    """A sheet name that does not exist is an error listing the sheets."""
    path = tmp_path / "units.xlsx"
    _write_xlsx(path, {"Tỉnh": XLSX_ROWS, "Xã": [["a"]]})
    with (
        language("en"),
        pytest.raises(InputError, match=r"no sheet 'Huyện'.*'Tỉnh', 'Xã'"),
    ):
        read_table(path, sheet="Huyện")


def test_column_mapping_renames_roles(tmp_path):
    """A [data] mapping reads Vietnamese headers into the canonical columns."""
    path = tmp_path / "units.csv"
    path.write_text(
        "ma_tinh,ten,vung,dan_so\n01,Hà Nội,Bắc,10\n02,Huế,Trung,5\n", "utf-8"
    )
    mapping = ColumnMapping(id="ma_tinh", name="ten", region="vung")
    profiles = load_units(path, mapping=mapping)
    assert list(profiles.frame.index) == ["01", "02"]
    assert profiles.frame.loc["02", "region"] == "Trung"
    assert profiles.numeric_columns == ("dan_so",)


def test_mapped_optional_column_must_exist(tmp_path):
    """A role the mapping renames must be present even when it is optional."""
    path = tmp_path / "units.csv"
    path.write_text("unit_id,name,vung\n01,A,B\n", "utf-8")
    with (
        language("en"),
        pytest.raises(InputError, match=r"no column 'vung_mien'.*'vung'"),
    ):
        load_units(path, mapping=ColumnMapping(region="vung_mien"))


def test_missing_file_and_directory(tmp_path):
    """A missing path and a folder are InputErrors with a sentence."""
    with language("en"), pytest.raises(InputError, match="file not found"):
        read_table(tmp_path / "nope.csv")
    with language("en"), pytest.raises(InputError, match="folder, not a file"):
        read_table(tmp_path)


def test_legacy_xls_is_refused(tmp_path):
    """An old binary .xls gets a 'save as .xlsx' message, not a parser traceback."""
    path = tmp_path / "units.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with language("en"), pytest.raises(InputError, match=r"\.xls.*save it as"):
        read_table(path)


def test_blank_rows_keep_excel_numbering(tmp_path):
    """Blank lines are skipped but later rows keep the number Excel shows."""
    path = tmp_path / "units.csv"
    path.write_text("unit_id,name,population\n01,A,1\n\n03,C,-1\n", "utf-8")
    with language("en"), pytest.raises(InputError, match=r"row 4, column 'population'"):
        load_units(path)


def test_quoted_multiline_cell_counts_as_one_row(tmp_path):
    """A quoted cell with a line break is one Excel row."""
    path = tmp_path / "units.csv"
    path.write_text(
        'unit_id,name,population\n01,"Hà\nNội",1\n02,B,x\n03,C,2\n', "utf-8"
    )
    with language("en"), pytest.raises(InputError, match=r"row 3, column 'population'"):
        load_units(path)


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("adjacency_unknown_id.csv", r"row 3, column 'B'.*not in the unit table.*'99'"),
        ("adjacency_unpadded_id.csv", r"row 3, column 'A'.*'1'.*did you mean '01'"),
        ("adjacency_lookalike_id.csv", r"row 3, column 'B'.*'O3'.*did you mean '03'"),
        ("adjacency_self_pair.csv", r"row 3: unit '03' is paired with itself"),
        ("adjacency_one_column.csv", r"row 3: 2 columns are needed"),
    ],
)
def test_adjacency_defects(name, pattern):
    """Each adjacency defect is an InputError naming the row (and column)."""
    with language("en"), pytest.raises(InputError, match=pattern):
        load_adjacency(BAD / name, SMALL_IDS)


def test_adjacency_repeats_are_merged_with_warning(tmp_path):
    """A pair repeated in either orientation is kept once, with an InputWarning."""
    path = tmp_path / "adj.csv"
    path.write_text("01,02\n02,01\n02,03\n01,02\n", "utf-8")
    with language("en"), pytest.warns(InputWarning) as record:
        pairs = load_adjacency(path, SMALL_IDS)
    assert pairs == [("01", "02"), ("02", "03")]
    messages = [str(w.message) for w in record]
    assert len(messages) == 2
    assert "row 2: pair 02–01 already appears in row 1" in messages[0]
    assert "row 4: pair 01–02 already appears in row 1" in messages[1]


def test_adjacency_header_detection(tmp_path):
    """No header: first row is data; 'u;v' header: skipped; one known id: data with error."""
    path = tmp_path / "adj.csv"
    path.write_text("01;02\n03;04\n", "utf-8")
    assert load_adjacency(path, SMALL_IDS) == [("01", "02"), ("03", "04")]
    path.write_text("u;v\n03;04\n", "utf-8")
    assert load_adjacency(path, SMALL_IDS) == [("03", "04")]
    path.write_text("01,0x\n03,04\n", "utf-8")
    with language("en"), pytest.raises(InputError, match=r"row 1, column 'B'.*'0x'"):
        load_adjacency(path, SMALL_IDS)


def test_bundled_vn34_loads_cleanly():
    """The bundled 34 provinces validate; GRDP is empty (NaN) for 7, never invented."""
    root = Path(__file__).parents[1] / "scenarios" / "bundled" / "vn34"
    profiles = load_units(root / "units.csv")
    assert profiles.n_units == 34
    assert profiles.frame.index[0] == "01"
    assert profiles.frame["grdp_2024_mn_vnd"].isna().sum() == 7
    assert profiles.frame["region"].isna().sum() == 7
    assert "current_cluster" not in read_table(root / "units.csv").header
    assert not profiles.has_current
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pairs = load_adjacency(root / "adjacency.csv", profiles.unit_ids)
    assert len(pairs) == 58


def _read_any(data: bytes, suffix: str, **kwargs: object) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"t{suffix}"
        path.write_bytes(data)
        try:
            load_units(path, **kwargs)  # type: ignore[arg-type]
        except InputError:
            pass
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InputWarning)
                load_adjacency(path, ["0", "1", "01", "a"])
        except InputError:
            pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".xlsx", ".txt"]))
def test_random_bytes_raise_only_input_error(data, suffix):
    """Arbitrary bytes never raise anything but InputError (units and adjacency)."""
    _read_any(data, suffix)


def _xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    workbook = openpyxl.Workbook()
    for row in XLSX_ROWS:
        workbook.active.append(row)
    workbook.save(buffer)
    return buffer.getvalue()


_XLSX = _xlsx_bytes()


@settings(max_examples=60, deadline=None)
@given(
    cut=st.integers(min_value=0, max_value=len(_XLSX)),
    flips=st.lists(st.integers(min_value=0, max_value=len(_XLSX) - 1), max_size=5),
)
def test_damaged_xlsx_raises_only_input_error(cut, flips):
    """A truncated or bit-flipped workbook is loaded or rejected with InputError."""
    data = bytearray(_XLSX[:cut] if cut > 4 else _XLSX)
    for position in flips:
        if position < len(data):
            data[position] ^= 0x5A
    _read_any(bytes(data), ".xlsx")


_CELL = st.lists(
    st.sampled_from(
        list('01 ,;.-"\n\tabéộ') + ["nan", "inf", "unit_id", "name", "1.234"]
    ),
    max_size=6,
).map("".join)


@settings(max_examples=100, deadline=None)
@given(
    header=st.sampled_from(
        ["unit_id,name,population", "unit_id;name;lat;lon", "x", 'sep="\nunit_id,name']
    ),
    body=st.lists(_CELL, max_size=8),
    decimal_comma=st.booleans(),
)
def test_random_tables_raise_only_input_error(header, body, decimal_comma):
    """Random table-like text is either loaded or rejected with InputError."""
    text = header + "\n" + ",".join(body)
    _read_any(text.encode("utf-8"), ".csv", decimal_comma=decimal_comma)


def test_loaded_numbers_are_finite_or_nan(tmp_path):
    """Empty scale cells are NaN with a warning; every other value is finite."""
    path = tmp_path / "units.csv"
    path.write_text("unit_id,name,population\n01,A,\n02,B,1 234\n", "utf-8")
    with language("en"):
        profiles = load_units(path)
    values = profiles.column_values("population")
    assert math.isnan(values[0]) and values[1] == 1234
    assert any("row" in w and "2" in w for w in profiles.warnings)


def test_bundled_vn34_is_reproducible(tmp_path):
    """docs/build_vn34.py rebuilds the bundled files byte for byte from the source data."""
    import importlib.util

    root = Path(__file__).parents[1]
    # CI lays shared/ beside the clone; a developer's checkout has it at /work/shared.
    candidates = [root.parent / "shared" / "data" / "vn34", Path("/work/shared/data/vn34")]
    source = next((c for c in candidates if (c / "provinces.csv").exists()), candidates[0])
    if not (source / "provinces.csv").exists():
        pytest.skip("shared source data not available on this machine")
    spec = importlib.util.spec_from_file_location(
        "build_vn34", root / "docs" / "build_vn34.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(source, tmp_path)
    bundled = root / "scenarios" / "bundled" / "vn34"
    for name in ("units.csv", "adjacency.csv", "SOURCES.md"):
        assert (tmp_path / name).read_bytes() == (bundled / name).read_bytes(), name
