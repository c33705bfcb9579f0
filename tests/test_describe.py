"""Cluster descriptions, scale spread and Vietnamese/English number formatting."""

from __future__ import annotations

import math

import pytest
from helpers import make_plan, make_profiles, units_ok_small
from hypothesis import given
from hypothesis import strategies as st

from features.i18n import language
from optimizer.describe import (
    describe_members,
    describe_plan,
    format_number,
    format_quantity,
    format_range,
    scale_spread,
)


@pytest.mark.parametrize(
    ("value", "vi", "en"),
    [
        (1234567.25, "1.234.567,2", "1,234,567.2"),
        (12.0, "12", "12"),
        (0.5, "0,5", "0.5"),
        (-1500.0, "-1.500", "-1,500"),
    ],
)
def test_format_number(value, vi, en):
    """Thousands '.' and decimal ',' in Vietnamese; the reverse in English."""
    assert format_number(value, lang="vi") == vi
    assert format_number(value, lang="en") == en


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.00312, "0,0031"),  # a neighbour's distance at 50 000 units: "0" with two decimals
        (-0.00312, "-0,0031"),
        (0.66, "0,66"),  # two decimals already show two digits
        (0.05, "0,05"),
        (0.0, "0"),  # an exact zero (the same function) stays 0
        (12.345, "12,35"),  # large values keep their decimals
        (1e-12, "0"),  # past MAX_DECIMALS: rounds to 0
    ],
)
def test_format_number_shows_significant_digits_of_small_values(value, text):
    """``significant=2`` adds decimals to a small value until two digits show."""
    assert format_number(value, decimals=2, significant=2, lang="vi") == text


@given(st.floats(min_value=1e-6, max_value=0.999, allow_nan=False))
def test_small_values_never_print_as_zero_with_significant_digits(value):
    """Down to 10⁻⁶, a nonzero value keeps a nonzero digit (its relative error under 5 %)."""
    text = format_number(value, decimals=2, significant=2, lang="en")
    assert float(text) == pytest.approx(value, rel=0.05)


@pytest.mark.parametrize(
    ("value", "vi", "en"),
    [
        (1_234_567, "1,2 triệu", "1.2 million"),
        (45_000, "45 nghìn", "45 thousand"),
        (3_000_000_000, "3 tỉ", "3 billion"),
        (850, "850", "850"),
    ],
)
def test_format_quantity(value, vi, en):
    """Large figures use triệu/nghìn/tỉ (million/thousand/billion)."""
    with language("vi"):
        assert format_quantity(value) == vi
    with language("en"):
        assert format_quantity(value) == en


def test_format_range_shares_one_magnitude():
    """A range is written once with the magnitude of its upper end."""
    with language("vi"):
        assert format_range(1_200_000, 3_400_000) == "1,2–3,4 triệu"
        assert format_range(800_000, 3_400_000) == "0,8–3,4 triệu"


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_vi_and_en_formats_are_the_same_number(value):
    """Swapping separators of the Vietnamese text gives the English text."""
    vi = format_number(value, lang="vi")
    en = format_number(value, lang="en")
    swapped = vi.replace(".", "\x00").replace(",", ".").replace("\x00", ",")
    assert swapped == en


def test_describe_members_vi_and_en():
    """A,B,C: three North schools with population 100–300."""
    profiles = units_ok_small()
    with language("vi"):
        assert describe_members(["A", "B", "C"], profiles) == (
            "3 đơn vị North, population 100–300, 3/3 school"
        )
    with language("en"):
        assert describe_members(["A", "B", "C"], profiles) == (
            "3 units North, population 100–300, 3/3 school"
        )


def test_describe_mixed_cluster_counts_majorities():
    """Two North + one South: main region 2/3, main function 2/3 (ties alphabetic)."""
    profiles = units_ok_small()
    with language("vi"):
        text = describe_members(["A", "B", "D"], profiles)
    assert text == "3 đơn vị, 2/3 North, population 100–200, 2/3 school"


def test_describe_plan_and_spread():
    """Every cluster is described; spread is max/min of each scale figure."""
    profiles = units_ok_small()
    plan = make_plan([0, 0, 0, 1, 1, 1], unit_ids=list("ABCDEF"))
    described = describe_plan(plan, profiles)
    assert set(described) == {0, 1}
    # the whole-plan path reads the columns once; it says what each cluster alone would
    assert described[0] == describe_members(["A", "B", "C"], profiles)
    assert described[1] == describe_members(["D", "E", "F"], profiles)
    spread = scale_spread(plan, profiles)
    assert spread[0]["population"] == pytest.approx(3.0)
    assert spread[1]["population"] == pytest.approx(3.0)


def test_spread_edge_cases():
    """Zero minimum gives inf, an empty column nan, equal values 1."""
    profiles = make_profiles(
        [
            {"unit_id": "a", "x": 0, "y": None, "z": 5},
            {"unit_id": "b", "x": 4, "y": None, "z": 5},
        ]
    )
    plan = make_plan([0, 0], unit_ids=["a", "b"])
    spread = scale_spread(plan, profiles)[0]
    assert spread["x"] == math.inf and math.isnan(spread["y"]) and spread["z"] == 1.0
