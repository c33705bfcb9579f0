"""Synthetic, Vietnam-shaped unit tables for trials, tests and benchmarks.

Why synthetic data that *looks* real: the optimizer's difficulty depends on
the shape of the data — units along an S-shaped country, a few big cities and
many small communes (lognormal scale), a handful of dominant functions (Zipf
frequencies), regions that are contiguous areas, a sparse planar neighbour
graph. A uniform random table would make every method look good. Everything is
drawn from ``numpy.random.default_rng(seed)`` (never global seeding), so a seed
reproduces the same table byte for byte; 50 000 units take a few seconds.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import Delaunay

from features.errors import InputError, Problem
from features.i18n import register, tr
from features.limits import check_unit_count

register(
    {
        "sample.bad_count": {
            "vi": "số đơn vị phải ≥ 1 (nhận được {n})",
            "en": "the number of units must be >= 1 (got {n})",
        },
        "sample.cannot_write": {
            "vi": "không ghi được tệp mẫu ({reason})",
            "en": "cannot write the sample files ({reason})",
        },
        "sample.cannot_write_hint": {
            "vi": "chọn một thư mục có quyền ghi (không trùng tên một tệp)",
            "en": "choose a writable folder (not the name of an existing file)",
        },
        "sample.exists": {
            "vi": "tệp đã tồn tại, không ghi đè",
            "en": "the file already exists and is not overwritten",
        },
        "sample.exists_hint": {
            "vi": "chọn thư mục khác hoặc dùng --force để ghi đè",
            "en": "choose another folder or use --force to overwrite",
        },
    }
)

#: Outline of mainland Vietnam as (lon, lat) vertices, coarse but S-shaped:
#: wide north, narrow centre (Quảng Bình ~ 50 km), the Mekong delta to Cà Mau.
VIETNAM_OUTLINE = np.array(
    [
        (102.15, 22.40),
        (102.60, 22.75),
        (103.40, 22.80),
        (104.20, 22.80),
        (105.30, 23.30),
        (106.70, 22.90),
        (107.40, 22.60),
        (108.00, 21.55),
        (106.80, 20.75),
        (106.00, 19.90),
        (105.75, 18.80),
        (106.50, 17.60),
        (107.20, 16.70),
        (108.30, 16.05),
        (108.85, 15.20),
        (109.25, 13.80),
        (109.40, 12.60),
        (109.05, 11.50),
        (108.20, 10.90),
        (107.10, 10.40),
        (106.70, 9.70),
        (105.80, 8.60),
        (104.80, 8.60),
        (104.80, 9.60),
        (104.45, 10.40),
        (105.10, 10.95),
        (106.20, 11.00),
        (106.45, 11.70),
        (107.50, 12.30),
        (107.55, 13.50),
        (107.55, 14.60),
        (107.40, 15.50),
        (106.60, 16.40),
        (106.00, 17.30),
        (105.10, 18.40),
        (104.00, 19.30),
        (104.10, 20.00),
        (103.20, 20.70),
        (102.90, 21.60),
    ]
)

#: 7 socio-economic regions as (name, lat, lon) seeds; a unit belongs to the
#: nearest seed, so every region is one contiguous area.
REGIONS = (
    ("Trung du và miền núi phía Bắc", 21.9, 104.6),
    ("Đồng bằng sông Hồng", 20.8, 106.1),
    ("Bắc Trung Bộ", 18.0, 105.9),
    ("Duyên hải Nam Trung Bộ", 14.0, 108.9),
    ("Tây Nguyên", 13.3, 107.9),
    ("Đông Nam Bộ", 11.2, 106.8),
    ("Đồng bằng sông Cửu Long", 9.9, 105.6),
)

#: (lat, lon, weight) of cities around which a share of units crowds.
CITIES = (
    (21.03, 105.85, 3.0),
    (10.78, 106.70, 3.5),
    (20.86, 106.68, 1.0),
    (16.05, 108.20, 1.0),
    (10.03, 105.78, 1.0),
    (18.67, 105.68, 0.6),
    (12.24, 109.19, 0.5),
    (12.67, 108.04, 0.5),
)

#: Nine functions, listed from most to least frequent (Zipf-like weights).
FUNCTIONS = (
    "Nông nghiệp",
    "Dịch vụ",
    "Công nghiệp",
    "Thương mại",
    "Thủy sản",
    "Lâm nghiệp",
    "Du lịch",
    "Giáo dục",
    "Y tế",
)
ZIPF_EXPONENT = 1.1
SECOND_FUNCTION_SHARE = 0.15
CLUSTERED_SHARE = 0.35  # units drawn around cities rather than uniformly
PRIOR_CLUSTER_SIZE = 8  # size of the groups of the synthetic "current" grouping

_SYLLABLES = (
    "An",
    "Bình",
    "Hòa",
    "Tân",
    "Phú",
    "Thạnh",
    "Long",
    "Phước",
    "Hưng",
    "Thuận",
    "Đông",
    "Tây",
    "Nam",
    "Bắc",
    "Trung",
    "Quang",
    "Minh",
    "Hải",
    "Sơn",
    "Thủy",
    "Lộc",
    "Phong",
    "Mỹ",
    "Hiệp",
    "Vĩnh",
    "Xuân",
    "Đức",
    "Thành",
    "Lạc",
    "Hồng",
    "Kim",
    "Ngọc",
    "Cẩm",
    "Thượng",
    "Hạ",
    "Yên",
)
_KINDS = ("Xã", "Xã", "Xã", "Phường")


def _inside(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Even-odd ray casting: which (lon, lat) points lie inside ``polygon``."""
    x, y = points[:, 0:1], points[:, 1:2]
    x0, y0 = polygon[:, 0], polygon[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    crosses = (y0 > y) != (y1 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
    return np.count_nonzero(crosses & (x < x_cross), axis=1) % 2 == 1


def _draw_points(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct (lon, lat) points inside the outline, crowded near cities.

    Points are rounded to 1e-5 degree (about 1 m) and kept distinct: a repeated
    point would be left out of the Delaunay triangulation and end up isolated.
    """
    lo, hi = VIETNAM_OUTLINE.min(axis=0), VIETNAM_OUTLINE.max(axis=0)
    weights = np.array([c[2] for c in CITIES])
    city_xy = np.array([(c[1], c[0]) for c in CITIES])
    points = np.empty((0, 2))
    while len(points) < n:
        batch = max(64, 2 * (n - len(points)))
        uniform = rng.uniform(lo, hi, size=(batch, 2))
        city = rng.choice(len(CITIES), size=batch, p=weights / weights.sum())
        crowded = city_xy[city] + rng.normal(scale=0.35, size=(batch, 2))
        use_city = rng.random(batch) < CLUSTERED_SHARE
        candidates = np.round(np.where(use_city[:, None], crowded, uniform), 5)
        points = np.concatenate(
            [points, candidates[_inside(candidates, VIETNAM_OUTLINE)]]
        )
        grid = np.round(points * 1e5).astype(np.int64)  # exact after rounding to 1e-5
        _, first = np.unique(grid[:, 0] * 10**8 + grid[:, 1], return_index=True)
        points = points[np.sort(first)]
    return points[:n]


def _planar(points: np.ndarray) -> np.ndarray:
    """(lon, lat) degrees to roughly equal-distance planar coordinates."""
    return np.column_stack([points[:, 0] * np.cos(np.radians(16.0)), points[:, 1]])


def _regions(points: np.ndarray) -> np.ndarray:
    """Index of the nearest region seed for each point."""
    seeds = _planar(np.array([(lon, lat) for _, lat, lon in REGIONS]))
    xy = _planar(points)
    return np.argmin(((xy[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=2), axis=1)


def _functions(rng: np.random.Generator, n: int) -> list[str]:
    """Zipf-weighted functions; some units get a second, different one."""
    weights = 1.0 / np.arange(1, len(FUNCTIONS) + 1) ** ZIPF_EXPONENT
    weights /= weights.sum()
    first = rng.choice(len(FUNCTIONS), size=n, p=weights)
    second = rng.choice(len(FUNCTIONS), size=n, p=weights)
    two = (rng.random(n) < SECOND_FUNCTION_SHARE) & (second != first)
    return [
        f"{FUNCTIONS[a]};{FUNCTIONS[b]}" if both else FUNCTIONS[a]
        for a, b, both in zip(first, second, two, strict=True)
    ]


def _names(rng: np.random.Generator, n: int) -> list[str]:
    """Vietnamese commune-like names; repeats get a number, as real lists do."""
    kinds = rng.choice(len(_KINDS), size=n)
    first = rng.choice(len(_SYLLABLES), size=n)
    second = rng.choice(len(_SYLLABLES), size=n)
    base = pd.Series(
        [
            f"{_KINDS[k]} {_SYLLABLES[a]} {_SYLLABLES[b]}"
            for k, a, b in zip(kinds, first, second, strict=True)
        ]
    )
    repeat = base.groupby(base).cumcount().to_numpy()
    return [
        name if r == 0 else f"{name} {r + 1}"
        for name, r in zip(base, repeat, strict=True)
    ]


def _bisect(
    xy: np.ndarray, members: np.ndarray, n_groups: int, out: list[np.ndarray]
) -> None:
    """Recursive coordinate bisection into ``n_groups`` compact, near-equal groups."""
    if n_groups <= 1 or len(members) <= 1:
        out.append(members)
        return
    left_groups = n_groups // 2
    spread = np.ptp(xy[members], axis=0)
    order = members[np.argsort(xy[members, int(np.argmax(spread))], kind="stable")]
    cut = round(len(members) * left_groups / n_groups)
    _bisect(xy, order[:cut], left_groups, out)
    _bisect(xy, order[cut:], n_groups - left_groups, out)


def _prior_clusters(points: np.ndarray, region: np.ndarray) -> list[str]:
    """A plausible grouping in force: compact groups of ~8 units inside each region."""
    xy = _planar(points)
    labels = np.empty(len(points), dtype=object)
    groups: list[np.ndarray] = []
    for r in range(len(REGIONS)):
        members = np.flatnonzero(region == r)
        if len(members):
            _bisect(
                xy, members, max(1, round(len(members) / PRIOR_CLUSTER_SIZE)), groups
            )
    for k, members in enumerate(groups, start=1):
        labels[members] = f"Cụm {k}"  # data, not a message: same in every language
    return list(labels)


def _adjacency(points: np.ndarray) -> list[tuple[int, int]]:
    """Delaunay neighbours, minus edges across sea or border, kept connected.

    An edge is dropped when its midpoint falls outside the outline (the
    triangulation bridges the Gulf of Tonkin and Laos) unless the minimum
    spanning tree of the triangulation needs it, so the graph stays connected.
    """
    n = len(points)
    if n < 2:
        return []
    xy = _planar(points)
    if n < 3 or np.linalg.matrix_rank(xy[1:] - xy[0]) < 2:
        order = np.lexsort((xy[:, 1], xy[:, 0]))
        return sorted(
            (int(min(a, b)), int(max(a, b))) for a, b in itertools.pairwise(order)
        )
    simplices = Delaunay(xy).simplices.astype(np.int64)
    sides = np.concatenate(
        [simplices[:, [0, 1]], simplices[:, [1, 2]], simplices[:, [0, 2]]]
    )
    keys = np.unique(
        sides.min(axis=1) * n + sides.max(axis=1)
    )  # one key per edge, sorted
    a, b = keys // n, keys % n
    length = np.linalg.norm(xy[a] - xy[b], axis=1)
    tree = minimum_spanning_tree(
        coo_matrix((length + 1e-12, (a, b)), shape=(n, n))
    ).tocoo()
    tree_keys = np.minimum(tree.row, tree.col).astype(np.int64) * n + np.maximum(
        tree.row, tree.col
    )
    keep = _inside((points[a] + points[b]) / 2, VIETNAM_OUTLINE) | np.isin(
        keys, tree_keys
    )
    return list(zip(a[keep].tolist(), b[keep].tolist(), strict=True))


def generate_units(
    n_units: int, *, seed: int = 0
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Draw a synthetic unit table and its neighbour pairs.

    Parameters
    ----------
    n_units
        Number of units (>= 1).
    seed
        Seed of ``numpy.random.default_rng``; the same seed gives the same table.

    Returns
    -------
    (DataFrame, list of (str, str))
        Columns ``unit_id`` (zero-padded text), ``name``, ``function`` (``;``
        separated), ``region``, ``lat``, ``lon``, ``population``, ``area_km2``,
        ``budget_mn_vnd``, ``current_cluster``; and a connected list of
        undirected id pairs (Delaunay neighbours).

    Raises
    ------
    InputError
        ``n_units`` < 1.
    """
    if n_units < 1:
        raise InputError(tr("sample.bad_count", n=n_units))
    check_unit_count(n_units, "sample")  # 10^8 units would run for hours, then run out of memory
    rng = np.random.default_rng(seed)
    points = _draw_points(rng, n_units)
    region = _regions(points)
    population = (
        np.round(rng.lognormal(mean=9.6, sigma=0.8, size=n_units)).astype(np.int64)
        + 100
    )
    area = np.round(rng.lognormal(mean=3.6, sigma=0.9, size=n_units), 1) + 0.5
    budget = np.round(
        population * rng.lognormal(mean=-1.0, sigma=0.5, size=n_units)
    ).astype(np.int64)
    width = max(5, len(str(n_units)))
    ids = [str(i).zfill(width) for i in range(1, n_units + 1)]
    frame = pd.DataFrame(
        {
            "unit_id": pd.Series(ids, dtype="str"),
            "name": _names(rng, n_units),
            "function": _functions(rng, n_units),
            "region": [REGIONS[r][0] for r in region],
            "lat": points[:, 1],
            "lon": points[:, 0],
            "population": population,
            "area_km2": area,
            "budget_mn_vnd": budget,
            "current_cluster": _prior_clusters(points, region),
        }
    )
    pairs = [(ids[a], ids[b]) for a, b in _adjacency(points)]
    return frame, pairs


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 with BOM via a temporary file and ``os.replace``.

    A private copy of ``scenarios.atomic`` because ``features`` must not import
    ``scenarios`` (data flows one way).
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8-sig"))
            handle.flush()
            os.fsync(handle.fileno())
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp's 0600 would hide the table from colleagues
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_sample(
    out_dir: str | Path, n_units: int, *, seed: int = 0, force: bool = False
) -> tuple[Path, Path]:
    """Write ``units.csv`` and ``adjacency.csv`` (UTF-8 with BOM) into ``out_dir``.

    Raises
    ------
    InputError
        A target file exists and ``force`` is False, or ``n_units`` < 1.
    """
    out_dir = Path(out_dir)
    units_path, adjacency_path = out_dir / "units.csv", out_dir / "adjacency.csv"
    if not force:
        existing = [p for p in (units_path, adjacency_path) if p.exists()]
        if existing:
            raise InputError(
                [
                    Problem(str(p), tr("sample.exists"), hint=tr("sample.exists_hint"))
                    for p in existing
                ]
            )
    frame, pairs = generate_units(n_units, seed=seed)
    adjacency = pd.DataFrame(pairs, columns=["a", "b"], dtype="str")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(units_path, frame.to_csv(index=False, lineterminator="\n"))
        _atomic_write(
            adjacency_path, adjacency.to_csv(index=False, lineterminator="\n")
        )
    except (
        OSError
    ) as err:  # a file where the folder should be, no permission, disk full
        reason = err.strerror or type(err).__name__
        raise InputError(
            [
                Problem(
                    str(out_dir),
                    tr("sample.cannot_write", reason=reason),
                    hint=tr("sample.cannot_write_hint"),
                )
            ]
        ) from None
    return units_path, adjacency_path
