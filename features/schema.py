"""The single description of the unit table: which columns play which role.

Why one place: the loader, the validator, the messages, ``cumkhoi validate``
and the README all describe the same table. When a role, a default header, a
range or a description changes, it changes here and everywhere at once.

A unit table has *role* columns (listed in :data:`ROLE_COLUMNS`, matched by
header through :class:`~features.types.ColumnMapping`) and any number of
*scale* columns: every other column whose cells are numbers. Role columns are
read as text (ids keep their leading zeros); scale columns become floats.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, fields

from features.i18n import register, tr
from features.types import ColumnMapping

register(
    {
        "schema.unit_id": {
            "vi": 'mã đơn vị, duy nhất; giữ nguyên số 0 đứng đầu ("01" khác "1")',
            "en": 'unique unit id, kept as text ("01" is not "1")',
        },
        "schema.name": {
            "vi": "tên hiển thị của đơn vị (có dấu tiếng Việt)",
            "en": "display name of the unit (Vietnamese diacritics welcome)",
        },
        "schema.function": {
            "vi": "lĩnh vực/chức năng; nhiều giá trị cách nhau bằng dấu ';'",
            "en": "function (sector, duty); several separated by ';'",
        },
        "schema.region": {
            "vi": "vùng (một nhóm, dạng chữ)",
            "en": "region (a category, as text)",
        },
        "schema.lat": {
            "vi": "vĩ độ WGS84 (độ), đi cùng kinh độ",
            "en": "latitude, WGS84 degrees, given together with longitude",
        },
        "schema.lon": {
            "vi": "kinh độ WGS84 (độ), đi cùng vĩ độ",
            "en": "longitude, WGS84 degrees, given together with latitude",
        },
        "schema.current_cluster": {
            "vi": "cụm/khối đang áp dụng (để giữ ổn định và liệt kê đơn vị chuyển cụm)",
            "en": "the cluster in force (for stability and the list of moves)",
        },
        "schema.scale": {
            "vi": "mọi cột số khác: số liệu quy mô (dân số, ngân sách…), không âm",
            "en": "any other numeric column: scale figures (population, budget…), >= 0",
        },
        "schema.required": {"vi": "bắt buộc", "en": "required"},
        "schema.optional": {"vi": "không bắt buộc", "en": "optional"},
    }
)


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One role column of the unit table.

    ``role`` is the :class:`~features.types.ColumnMapping` field (and the key
    under ``[data]`` in a scenario file that renames it); ``canonical`` the
    column it becomes in :attr:`Profiles.frame <features.types.Profiles>`
    (``unit_id`` is the index); ``kind`` tells the validator how to read it.
    """

    role: str
    canonical: str
    kind: str  # "id" | "text" | "category" | "categories" | "latitude" | "longitude"
    required: bool
    minimum: float | None = None
    maximum: float | None = None
    #: Headers planners often use for this role (compared without accents,
    #: case, spaces or underscores); only ever *suggested*, never applied.
    aliases: tuple[str, ...] = ()

    @property
    def default_header(self) -> str:
        """The header the spec expects when no mapping renames the column."""
        return str(getattr(ColumnMapping(), self.role))

    def description(self) -> str:
        """What the column means, in the current language."""
        return tr(f"schema.{self.default_header}")


#: Role columns in the order of the Profiles frame (``unit_id`` becomes the index).
ROLE_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec(
        "id",
        "unit_id",
        "id",
        required=True,
        aliases=(
            "id",
            "ma",
            "mã",
            "code",
            "ma don vi",
            "ma dv",
            "ma tinh",
            "ma xa",
            "ma truong",
            "ma so",
            "stt",
        ),
    ),
    ColumnSpec(
        "name",
        "name",
        "text",
        required=True,
        aliases=(
            "ten",
            "tên",
            "ten don vi",
            "ten dv",
            "ten tinh",
            "ten xa",
            "ten truong",
            "don vi",
            "unit",
            "unit name",
        ),
    ),
    ColumnSpec(
        "function",
        "functions",
        "categories",
        required=False,
        aliases=("chuc nang", "linh vuc", "loai", "nganh", "loai hinh"),
    ),
    ColumnSpec(
        "region",
        "region",
        "category",
        required=False,
        aliases=("vung", "khu vuc", "mien"),
    ),
    ColumnSpec(
        "lat",
        "lat",
        "latitude",
        False,
        minimum=-90.0,
        maximum=90.0,
        aliases=("latitude", "vi do", "y"),
    ),
    ColumnSpec(
        "lon",
        "lon",
        "longitude",
        False,
        minimum=-180.0,
        maximum=180.0,
        aliases=("longitude", "lng", "long", "kinh do", "x"),
    ),
    ColumnSpec(
        "current_cluster",
        "current_cluster",
        "category",
        required=False,
        aliases=("cum", "khoi", "cum hien tai", "khoi hien tai", "cluster"),
    ),
)

ROLES: dict[str, ColumnSpec] = {spec.role: spec for spec in ROLE_COLUMNS}

#: Columns of ``Profiles.frame`` before the scale columns, in this order.
PROFILE_COLUMNS: tuple[str, ...] = tuple(s.canonical for s in ROLE_COLUMNS[1:])

#: Separator of several functions in one cell ("Nông nghiệp; Du lịch").
FUNCTION_SEPARATOR = ";"

#: Scale figures (population, budget, staff) are counts or amounts: never negative.
SCALE_MINIMUM = 0.0

#: A column is meant to be numeric when more than this share of its non-empty
#: cells are numbers; its other cells are then reported instead of the column
#: being silently dropped as text.
NUMERIC_MAJORITY = 0.5

#: Rough extent of Vietnam, used only to hint that lat/lon look swapped.
VIETNAM_LAT = (8.0, 24.0)
VIETNAM_LON = (102.0, 110.0)


def plain(text: str) -> str:
    """``text`` without accents, case, underscores or extra spaces ("Mã_Tỉnh" -> "ma tinh")."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.replace("_", " ").replace("-", " ").casefold().split())


def role_headers(mapping: ColumnMapping) -> dict[str, str]:
    """Header expected in the file for each role under ``mapping``."""
    return {spec.role: str(getattr(mapping, spec.role)) for spec in ROLE_COLUMNS}


def explicit_roles(mapping: ColumnMapping) -> frozenset[str]:
    """Roles the mapping renames: their column must exist even when optional."""
    default = ColumnMapping()
    return frozenset(
        f.name
        for f in fields(ColumnMapping)
        if f.name in ROLES and getattr(mapping, f.name) != getattr(default, f.name)
    )


def describe() -> list[tuple[str, str, str]]:
    """``(header, required/optional, meaning)`` rows for help texts and the README."""
    rows = [
        (
            spec.default_header,
            tr("schema.required" if spec.required else "schema.optional"),
            spec.description(),
        )
        for spec in ROLE_COLUMNS
    ]
    rows.append(("…", tr("schema.optional"), tr("schema.scale")))
    return rows
