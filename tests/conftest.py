"""Shared fixtures: small hand-checked unit tables (append yours below, with a docstring)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from features.i18n import language
from features.load import load_adjacency, load_units
from features.types import Profiles, UnitId

DATA_DIR = Path(__file__).parent / "data"
BAD_DIR = DATA_DIR / "bad"


def pytest_configure(config: pytest.Config) -> None:
    """Under ``pytest -n N`` each worker's BLAS / OpenMP gets one thread.

    Why: both libraries start one thread per core in every process, so two
    workers on two cores ran four busy threads, and the tests that hold the
    wall clock to a solver's calibrated pace (``clock_stopped``) failed under
    the contention, not on their own (a clean-clone CI run: band restarts of a
    400-unit table past their 8-s limit). One thread each is what the cores hold.
    """
    import os

    if os.environ.get("PYTEST_XDIST_WORKER"):
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)


@pytest.fixture(autouse=True)
def _vietnamese_by_default() -> Iterator[None]:
    """Every test starts in the default language, whatever an earlier test set."""
    with language("vi"):
        yield


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Folder of the committed test tables (``tests/data``)."""
    return DATA_DIR


@pytest.fixture(scope="session")
def provinces_small() -> Profiles:
    """Six northern provinces on a 2 x 3 grid, two obvious clusters of three.

    Read from ``tests/data/units_provinces_small.csv`` through the loader.

    ::

        01 Hà Nội 8000 ── 02 Bắc Ninh 2000 ── 03 Hải Phòng 4000
             │                 │                   │
        04 Phú Thọ 4000 ── 05 Hưng Yên 3000 ── 06 Ninh Bình 3000

    Population total 24 000 (12 000 per cluster when balanced); current
    clusters: Cụm 1 = {01, 02, 04}, Cụm 2 = {03, 05, 06} (14 000 / 10 000).
    Hà Nội has two functions ("thành phố", "công nghiệp").
    """
    return load_units(DATA_DIR / "units_provinces_small.csv")


@pytest.fixture(scope="session")
def provinces_small_pairs(provinces_small: Profiles) -> list[tuple[UnitId, UnitId]]:
    """The 7 grid edges of :func:`provinces_small` as unit-id pairs."""
    return load_adjacency(
        DATA_DIR / "adjacency_provinces_small.csv", provinces_small.unit_ids
    )


@pytest.fixture
def ctrl_c_reaches_python() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt here, even if the test run was started as a background job.

    A shell starts background jobs with SIGINT ignored, and Python then never
    raises KeyboardInterrupt: every Ctrl-C test would fail for a reason that
    is not the product's. The tests that send SIGINT restore Python's handler
    for their duration (and their child processes reset it, see test_interrupt).
    """
    import signal

    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)

