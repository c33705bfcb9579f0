"""Validation of unit tables: one bad file per defect kind, numbers, require_complete."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from features.errors import InputError
from features.i18n import language
from features.load import load_units, read_table
from features.schema import describe, plain
from features.validate import parse_number, require_complete, validate_profiles

BAD = Path(__file__).parent / "data" / "bad"

#: One file per defect kind and what its (English) message must say: where and what.
BAD_FILES = [
    (
        "missing_unit_id.csv",
        r"column 'unit_id': required column .*'ma_don_vi'.*id = \"ma_don_vi\"",
    ),
    (
        "missing_name.csv",
        r"column 'name': required column .*'ten'.*name = \"ten\".*\[data\]",
    ),
    (
        "duplicate_unit_id.csv",
        r"row 3, column 'unit_id': id '02' is repeated in rows 3, 5",
    ),
    (
        "near_duplicate_unit_id.csv",
        r"row 2, column 'unit_id': ids 'HN', 'hn' in rows 2, 4",
    ),
    ("empty_unit_id.csv", r"row 3, column 'unit_id': the unit id is empty"),
    ("empty_name.csv", r"row 3, column 'name': the unit name is empty"),
    (
        "text_in_number.csv",
        r"row 3, column 'population': not a number \(value 'khoảng 20'\)",
    ),
    ("negative_population.csv", r"row 4, column 'population': .*>= 0 \(value '-3'\)"),
    ("nan_feature.csv", r"row 3, column 'population': not a finite number .*'NaN'"),
    ("inf_feature.csv", r"row 4, column 'population': not a finite number .*'inf'"),
    (
        "lat_without_lon.csv",
        r"column 'lat': column 'lat' is given without column 'lon'",
    ),
    ("half_coordinate.csv", r"row 3, column 'lon': 'lat' is given but 'lon' is empty"),
    (
        "lat_out_of_range.csv",
        r"row 3, column 'lat': must lie within \[-90, 90\].*'95.5'",
    ),
    (
        "swapped_coordinates.csv",
        r"row 3, column 'lat': must lie .*'105.9'.*look swapped",
    ),
    (
        "duplicate_header.csv",
        r"column 'population': header 'population' appears 2 times",
    ),
    ("long_row.csv", r"row 3: the row has 4 cells but the header has only 3 columns"),
    ("header_only.csv", r"header_only.csv: the table has no units"),
    ("empty.csv", r"empty.csv: the file is empty"),
    ("blank_first_row.csv", r"row 1 is empty"),
    (
        "decimal_comma_unflagged.csv",
        r"row 2, column 'population': not a number .*decimal-comma",
    ),
    ("broken.xlsx", r"broken.xlsx: the .xlsx file is damaged"),
    ("binary.csv", r"binary.csv: the file is neither a CSV table nor an Excel"),
    (
        "title_rows_above.csv",
        r"row 3: the column names .* are in row 3.*delete the 2 title",
    ),
]


@pytest.mark.parametrize(("name", "pattern"), BAD_FILES, ids=[n for n, _ in BAD_FILES])
def test_bad_file_raises_input_error(name, pattern):
    """Each bad file is rejected with an InputError naming where and what."""
    with language("en"), pytest.raises(InputError, match=pattern):
        load_units(BAD / name)


def test_every_bad_file_is_covered():
    """Every unit-table file in tests/data/bad has a row in BAD_FILES (or another test)."""
    covered = {n for n, _ in BAD_FILES} | {"several_defects.csv"}
    unit_files = {
        p.name
        for p in BAD.iterdir()
        if p.is_file() and not p.name.startswith("adjacency")
    }
    assert unit_files == covered


def test_several_defects_are_all_listed():
    """A file with seven defects lists all seven in one error, in Vietnamese by default."""
    with language("vi"), pytest.raises(InputError) as info:
        load_units(BAD / "several_defects.csv")
    error = info.value
    assert len(error.problems) == 7
    found = {(p.row, p.column) for p in error.problems}
    assert found == {
        (2, "unit_id"),
        (3, "name"),
        (2, "lon"),
        (3, "lat"),
        (2, "population"),
        (3, "population"),
        (4, "population"),
    }
    text = str(error)
    assert text.startswith("several_defects.csv: phát hiện 7 lỗi")
    assert "dòng 3, cột 'name': tên đơn vị trống" in text
    assert "dòng 4, cột 'population'" in text


def test_vietnamese_message_has_diacritics():
    """The default language is Vietnamese with correct diacritics."""
    with (
        language("vi"),
        pytest.raises(
            InputError, match=r"dòng 4, cột 'population': số liệu quy mô phải ≥ 0"
        ),
    ):
        load_units(BAD / "negative_population.csv")


def test_problem_listing_is_capped(tmp_path):
    """Hundreds of bad cells are listed up to the cap, then counted."""
    path = tmp_path / "units.csv"
    rows = "".join(f"{i:03d},U{i},{-i - 1}\n" for i in range(100))
    path.write_text("unit_id,name,population\n" + rows, "utf-8")
    with (
        language("en"),
        pytest.raises(InputError, match=r"(?s)100 problem\(s\).*and 70 more") as info,
    ):
        load_units(path)
    assert len(info.value.problems) == 100


def test_duplicate_rows_listing_is_capped(tmp_path):
    """An id repeated 15 times names 10 rows and counts the rest."""
    path = tmp_path / "units.csv"
    path.write_text("unit_id,name\n" + "7,A\n" * 15, "utf-8")
    with (
        language("en"),
        pytest.raises(InputError, match=r"rows 2, 3, .*, 11 … and 5 more"),
    ):
        load_units(path)


@pytest.mark.parametrize(
    ("text", "decimal_comma", "expected"),
    [
        ("1234", False, 1234.0),
        (" -12.5 ", False, -12.5),
        ("1e3", False, 1000.0),
        ("1,234,567", False, 1234567.0),
        ("1,234.5", False, 1234.5),
        ("1.234.567", False, 1234567.0),
        ("1.234", False, 1.234),
        ("1 234 567", False, 1234567.0),
        ("1\u00a0234", False, 1234.0),
        ("\u22123", False, -3.0),  # the minus sign U+2212 that Excel may export
        ("1,5", False, None),
        ("1_000", False, None),
        ("12abc", False, None),
        ("", False, None),
        ("1234,5", True, 1234.5),
        ("1.234.567,5", True, 1234567.5),
        ("1.234", True, 1234.0),
        ("21,0001", True, 21.0001),
        ("1 234,5", True, 1234.5),
        ("1.5", True, None),
        ("1,234.5", True, None),
    ],
)
def test_parse_number_hand_checked(text, decimal_comma, expected):
    """Number forms accepted and refused, by decimal convention (see validate module doc)."""
    assert parse_number(text, decimal_comma) == expected


@pytest.mark.parametrize("text", ["nan", "NaN", "-inf", "Infinity", "#DIV/0!"])
def test_parse_number_flags_nonfinite_text(text):
    """NaN/inf spellings come back non-finite so the validator can report them."""
    value = parse_number(text)
    assert value is not None and not math.isfinite(value)


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_parse_number_round_trips_python_floats(value):
    """repr() of any finite float parses back to itself (both conventions)."""
    assert parse_number(repr(value)) == value
    assert parse_number(repr(value).replace(".", ","), decimal_comma=True) == value


@given(st.integers(min_value=0, max_value=10**15))
def test_parse_number_thousands_grouping(value):
    """Grouped integers read as themselves: ',' or space by default, '.' with decimal comma."""
    grouped = f"{value:,}"
    assert parse_number(grouped) == value
    assert parse_number(grouped.replace(",", " ")) == value
    assert parse_number(grouped.replace(",", "."), decimal_comma=True) == value


def test_text_column_with_some_numbers_is_kept_as_text_with_warning(tmp_path):
    """A mostly-text column is not a scale column, and a warning says why."""
    path = tmp_path / "units.csv"
    path.write_text("unit_id,name,ghi_chu\n01,A,xem lại\n02,B,12\n03,C,mới\n", "utf-8")
    with language("en"):
        profiles = load_units(path)
    assert profiles.numeric_columns == ()
    assert any("ghi_chu" in w and "only 1 of 3" in w for w in profiles.warnings)


def test_headerless_data_column_is_warned(tmp_path):
    """Data under an empty header is ignored with a warning, not silently."""
    path = tmp_path / "units.csv"
    path.write_text("unit_id,name,\n01,A,5\n", "utf-8")
    with language("en"):
        profiles = load_units(path)
    assert profiles.numeric_columns == ()
    assert any("column 3 holds data but has no header" in w for w in profiles.warnings)


def test_case_insensitive_header_match(tmp_path):
    """'Unit_ID' and 'Name' headers play the default roles."""
    path = tmp_path / "units.csv"
    path.write_text("Unit_ID,Name,Population\n01,A,5\n", "utf-8")
    profiles = load_units(path)
    assert list(profiles.frame.index) == ["01"]
    assert profiles.numeric_columns == ("Population",)


def test_numeric_mapping_restricts_scale_columns(tmp_path):
    """mapping.numeric picks the scale columns; a missing one is an error with a suggestion."""
    from features.types import ColumnMapping

    path = tmp_path / "units.csv"
    path.write_text("unit_id,name,population,area\n01,A,5,7\n", "utf-8")
    profiles = load_units(path, mapping=ColumnMapping(numeric=("area",)))
    assert profiles.numeric_columns == ("area",)
    with language("en"), pytest.raises(InputError, match=r"'populaton'.*'population'"):
        load_units(path, mapping=ColumnMapping(numeric=("populaton",)))
    with language("en"), pytest.raises(InputError, match=r"'name' already has a role"):
        load_units(path, mapping=ColumnMapping(numeric=("area", "name")))


def test_require_complete_names_empty_rows(provinces_small, tmp_path):
    """require_complete passes on full columns and names the Excel rows left empty."""
    require_complete(
        provinces_small, ["population", "location", "function"], "[balance]"
    )
    path = tmp_path / "units.csv"
    path.write_text(
        "unit_id,name,population,region\n01,A,5,Bắc\n02,B,,\n03,C,7,Nam\n", "utf-8"
    )
    profiles = load_units(path)
    with (
        language("en"),
        pytest.raises(InputError, match=r"row 3, column 'population'.*\[balance\]"),
    ):
        require_complete(profiles, ["population"], "[balance]")
    with language("en"), pytest.raises(InputError, match=r"row 3, column 'region'"):
        require_complete(profiles, ["region"], "[similarity]")
    with (
        language("en"),
        pytest.raises(InputError, match=r"'budget' is needed for \[balance\]"),
    ):
        require_complete(profiles, ["budget"], "[balance]")


def test_require_complete_location_without_coordinates(provinces_small, tmp_path):
    """A table without lat/lon cannot serve 'location' similarity."""
    path = tmp_path / "units.csv"
    path.write_text("unit_id,name\n01,A\n", "utf-8")
    with pytest.raises(InputError):
        require_complete(load_units(path), ["location"], "[similarity]")


def test_validate_profiles_accepts_raw_table_directly():
    """validate_profiles works on a RawTable from read_table (the two-step path)."""
    raw = read_table(Path(__file__).parent / "data" / "units_provinces_small.csv")
    assert validate_profiles(raw).n_units == 6


def test_schema_describe_and_plain():
    """The schema describes every role in both languages; plain() folds accents."""
    with language("en"):
        rows = describe()
    assert [r[0] for r in rows][:2] == ["unit_id", "name"] and rows[0][1] == "required"
    with language("vi"):
        assert describe()[0][1] == "bắt buộc"
    assert plain("Mã_Đơn vị") == "ma don vi"


def test_empty_category_cells_are_warned_not_filled(tmp_path):
    """Empty region/current_cluster cells stay None and are named in a warning."""
    path = tmp_path / "units.csv"
    path.write_text(
        "unit_id,name,region,current_cluster\n01,A,Bắc,Cụm 1\n02,B,,Cụm 1\n03,C,Nam,\n",
        "utf-8",
    )
    with language("en"):
        profiles = load_units(path)
    assert profiles.frame.loc["02", "region"] is None
    assert profiles.frame.loc["03", "current_cluster"] is None
    assert profiles.has_current
    assert any("'region'" in w and "rows 3" in w for w in profiles.warnings)
    assert any("'current_cluster'" in w and "rows 4" in w for w in profiles.warnings)


def test_control_characters_in_text_cells_are_reported(tmp_path):
    """An ESC hidden in a name is an error naming row, column and code point, never passed on."""
    path = tmp_path / "units.csv"
    path.write_text(
        'unit_id,name,region\n01,Hà\x1b[31mNội,Bắc\n02,Huế,Trung\x07\n03,"Đà\nNẵng",Trung\n',
        encoding="utf-8",
    )
    with language("en"), pytest.raises(InputError) as err:
        load_units(path)
    text = str(err.value)
    assert "row 2, column 'name'" in text and "U+001B" in text
    assert "row 3, column 'region'" in text and "U+0007" in text
    assert "row 4" not in text  # a line break inside a quoted cell is allowed


def test_the_control_character_pattern_is_unicode_category_cc_less_tab_and_breaks() -> None:
    """Over every code point: the one regular expression flags exactly what the category
    lookup per character did (Cc, except tab, CR and LF)."""
    import sys
    import unicodedata

    from features.validate import CONTROL_CHARACTER

    flagged = {c for c in map(chr, range(sys.maxunicode + 1)) if CONTROL_CHARACTER.fullmatch(c)}
    expected = {
        c for c in map(chr, range(sys.maxunicode + 1))
        if unicodedata.category(c) == "Cc" and c not in "\t\r\n"
    }
    assert flagged == expected


def test_unit_ids_follow_the_frame_through_replace() -> None:
    """unit_ids is built once per Profiles; a replaced frame (a sub-table in LNS) gets its own."""
    import dataclasses

    from helpers import make_profiles

    profiles = make_profiles([{"unit_id": u, "name": u.upper(), "function": "x"} for u in "bac"])
    assert profiles.unit_ids == ("b", "a", "c")
    sub = dataclasses.replace(profiles, frame=profiles.frame.loc[["c", "b"]])
    assert sub.unit_ids == ("c", "b") and profiles.unit_ids == ("b", "a", "c")
