"""Scenario files (TOML): the planner's data, rules, weights and solver settings.

Why pydantic with ``extra="forbid"`` and ``strict=True``: a typo such as
``balanse`` or ``count = "6"`` must stop the run with the key's dotted path and
a did-you-mean, not be silently ignored or coerced. Checks that need the data
(columns exist, ids exist, count ≤ units) live in :func:`build_problem`.

Defaults when a section or key is absent (README "Scenario file"):

- ``name``: the file name without extension (``<stem>-<n>`` for the n-th
  ``[[scenario]]`` table without a name).
- ``[clusters]``: ``count = max(1, round(n_units / 6))``; ``min_size =
  max(1, floor(0.5 · n_units / K_max))``; ``max_size = ceil(1.5 · n_units /
  K_min)`` (never below ``min_size``).
- ``[balance]``: none (no balance rule).
- ``[similarity]``: weight 1 for each of ``function``, ``region``,
  ``location`` the table has; when it has none of them, weight 1 for every
  complete numeric column.
- ``[rules]``: all off; ``stability_weight = 0``.
- ``[solver]``: ``time_limit = 30`` s, ``seed = 0``, ``workers = 1``
  (one worker makes the plan reproducible).

A file holds one scenario, or several ``[[scenario]]`` tables; top-level
tables next to ``[[scenario]]`` (e.g. a shared ``[data]``) are defaults that
every scenario of the file inherits and may override key by key.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import tomllib
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from features.engineer import build_features
from features.graph import build_adjacency_graph
from features.i18n import register, tr
from features.load import load_adjacency, load_units
from features.types import ColumnMapping, Profiles
from features.validate import require_complete
from optimizer.problem import Problem, Rules, SolverSettings
from scenarios.definition_checks import check_against_data, describe_validation_error
from scenarios.errors import ScenarioError

register(
    {
        "scenario.toml_syntax": {
            "vi": "{file}: lỗi cú pháp TOML ở dòng {line}, cột {column}: {detail}",
            "en": "{file}: TOML syntax error at line {line}, column {column}: {detail}",
        },
        "scenario.unreadable": {
            "vi": "{file}: không đọc được tệp kịch bản ({detail})",
            "en": "{file}: cannot read the scenario file ({detail})",
        },
        "scenario.not_found": {
            "vi": "{file}: không tìm thấy tệp kịch bản",
            "en": "{file}: scenario file not found",
        },
        "scenario.invalid_header": {
            "vi": "{file}: kịch bản có {n} lỗi:",
            "en": "{file}: the scenario has {n} problem(s):",
        },
        "scenario.data_missing": {
            "vi": '{file}: [data] {key} = "{value}" — không tìm thấy tệp {path}',
            "en": '{file}: [data] {key} = "{value}" — file {path} not found',
        },
        "scenario.scenario_list": {
            "vi": "{file}: 'scenario' phải là các bảng [[scenario]]",
            "en": "{file}: 'scenario' must be [[scenario]] tables",
        },
        "scenario.counts_both": {
            "vi": "đặt count, hoặc cả min_count và max_count (không đặt cả hai cách)",
            "en": "set count, or both min_count and max_count (not both ways)",
        },
        "scenario.min_gt_max": {
            "vi": "{low} = {a} lớn hơn {high} = {b}",
            "en": "{low} = {a} is larger than {high} = {b}",
        },
        "scenario.group_short": {
            "vi": "mỗi nhóm cần ít nhất 2 mã đơn vị, có nhóm chỉ có {n}",
            "en": "each group needs at least 2 unit ids; one has {n}",
        },
        "scenario.path_type": {
            "vi": "đường dẫn phải là chuỗi trong ngoặc kép",
            "en": "a path must be a quoted string",
        },
    }
)

#: Bundled example scenarios live here; ``cumkhoi plan`` without argument runs DEFAULT.
BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
DEFAULT_SCENARIO = BUNDLED_DIR / "vn34-6-cum-theo-vung.toml"

#: Caps on scenario numbers: beyond them a value is a typo, and inf/1e308 would
#: overflow the solver's integer coefficients (an internal error instead of a message).
MAX_WEIGHT = 1000.0
MAX_TOLERANCE = 10.0  # ±1000 % of the mean cluster total
MAX_TIME_LIMIT_S = 7 * 24 * 3600.0  # a week

_TOML_POSITION = re.compile(
    r"^(?P<detail>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$"
)


def _resolve_path(value: object, info: ValidationInfo) -> object:
    """Turn a path string into an absolute Path, relative to the scenario file."""
    if value is None or isinstance(value, Path):
        return value
    if not isinstance(value, str):
        # pydantic turns ValueError (not TypeError) into a located validation error
        raise ValueError(tr("scenario.path_type"))  # noqa: TRY004
    path = Path(value).expanduser()
    base = (info.context or {}).get("base_dir")
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    return path.resolve()


ResolvedPath = Annotated[Path, BeforeValidator(_resolve_path)]
UnitIdStr = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


_DEFAULT_MAPPING = ColumnMapping()


class DataSpec(_Strict):
    """``[data]``: where the unit table is and which header plays which role."""

    units: ResolvedPath
    adjacency: ResolvedPath | None = None
    sheet: str | None = None
    decimal_comma: bool = False
    # default headers come from the one ColumnMapping the loader also uses
    id: str = _DEFAULT_MAPPING.id
    name: str = _DEFAULT_MAPPING.name
    function: str = _DEFAULT_MAPPING.function
    region: str = _DEFAULT_MAPPING.region
    lat: str = _DEFAULT_MAPPING.lat
    lon: str = _DEFAULT_MAPPING.lon
    current_cluster: str = _DEFAULT_MAPPING.current_cluster


class ClustersSpec(_Strict):
    """``[clusters]``: how many clusters and how big; None = default from the data."""

    count: int | None = Field(default=None, ge=1)
    min_count: int | None = Field(default=None, ge=1)
    max_count: int | None = Field(default=None, ge=1)
    min_size: int | None = Field(default=None, ge=1)
    max_size: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _check(self) -> ClustersSpec:
        ranged = self.min_count is not None or self.max_count is not None
        if self.count is not None and ranged:
            raise ValueError(tr("scenario.counts_both"))
        if ranged and (self.min_count is None or self.max_count is None):
            raise ValueError(tr("scenario.counts_both"))
        for low, high in (("min_count", "max_count"), ("min_size", "max_size")):
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                raise ValueError(
                    tr("scenario.min_gt_max", low=low, high=high, a=a, b=b)
                )
        return self


def _check_groups(groups: list[list[str]]) -> list[list[str]]:
    for group in groups:
        if len(group) < 2:
            raise ValueError(tr("scenario.group_short", n=len(group)))
    return groups


Groups = list[list[UnitIdStr]]


class RulesSpec(_Strict):
    """``[rules]``: hard rules beyond counts, sizes and balance (all off by default)."""

    contiguous: bool = False
    one_region: bool = False
    one_function: bool = False
    max_moves: int | None = Field(default=None, ge=0)
    together: Groups = Field(default_factory=list)
    apart: Groups = Field(default_factory=list)
    fixed: dict[UnitIdStr, Annotated[str, Field(min_length=1)]] = Field(
        default_factory=dict
    )
    stability_weight: float = Field(
        default=0.0, ge=0, le=MAX_WEIGHT, allow_inf_nan=False
    )

    @model_validator(mode="after")
    def _check(self) -> RulesSpec:
        _check_groups(self.together)
        _check_groups(self.apart)
        return self


class SolverSpec(_Strict):
    """``[solver]``: search budget and reproducibility."""

    time_limit: float = Field(
        default=30.0, gt=0, le=MAX_TIME_LIMIT_S, allow_inf_nan=False
    )
    seed: int = Field(default=0, ge=0)
    workers: int = Field(default=1, ge=1)


class ScenarioSpec(_Strict):
    """One scenario as written in its file, with paths made absolute.

    ``source`` is the file it was read from (None when built in code); it is
    not a TOML key.
    """

    name: str = Field(min_length=1)
    data: DataSpec
    clusters: ClustersSpec = Field(default_factory=ClustersSpec)
    balance: dict[
        str, Annotated[float, Field(gt=0, le=MAX_TOLERANCE, allow_inf_nan=False)]
    ] = Field(default_factory=dict)
    similarity: dict[
        str, Annotated[float, Field(ge=0, le=MAX_WEIGHT, allow_inf_nan=False)]
    ] = Field(default_factory=dict)
    rules: RulesSpec = Field(default_factory=RulesSpec)
    solver: SolverSpec = Field(default_factory=SolverSpec)
    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        return self._source

    def resolved(self) -> dict[str, Any]:
        """The scenario as plain JSON-able data (absolute paths): for the manifest."""
        return self.model_dump(mode="json")


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def scenario_from_dict(
    data: Mapping[str, Any],
    *,
    base_dir: Path | None = None,
    source: Path | None = None,
    prefix: str = "",
    default_name: str = "scenario",
) -> ScenarioSpec:
    """Validate one scenario table; every problem in one :class:`ScenarioError`.

    Also used to rebuild a scenario from ``plan.json``'s ``manifest.scenario``
    (paths there are already absolute).
    """
    raw = dict(data)
    raw.setdefault("name", default_name)
    file_label = str(source) if source is not None else "<scenario>"
    try:
        spec = ScenarioSpec.model_validate(raw, context={"base_dir": base_dir})
    except ValidationError as err:
        lines = [
            describe_validation_error(e, ScenarioSpec, prefix) for e in err.errors()
        ]
        header = tr("scenario.invalid_header", file=file_label, n=len(lines))
        raise ScenarioError(
            "\n".join([header, *(f"  - {line}" for line in lines)])
        ) from None
    _check_files_exist(spec, file_label, raw.get("data", {}))
    spec._source = source
    return spec


def _check_files_exist(
    spec: ScenarioSpec, file_label: str, raw_data: Mapping[str, Any]
) -> None:
    for key in ("units", "adjacency"):
        path = getattr(spec.data, key)
        try:
            present = path is None or path.is_file()
        except OSError as err:  # name too long, permissions: not a traceback
            raise ScenarioError(
                tr("scenario.unreadable", file=file_label, detail=f"[data] {key}: {err.strerror}")
            ) from None
        if not present:
            raise ScenarioError(
                tr(
                    "scenario.data_missing",
                    file=file_label,
                    key=key,
                    value=raw_data.get(key, path),
                    path=path,
                )
            )


def load_scenarios(path: Path | str) -> list[ScenarioSpec]:
    """Read every scenario of a TOML file.

    Parameters
    ----------
    path
        The scenario file; relative paths inside it are resolved against its folder.

    Returns
    -------
    list[ScenarioSpec]
        One spec, or one per ``[[scenario]]`` table, in file order.

    Raises
    ------
    ScenarioError
        Missing/unreadable file, TOML syntax error (with line and column),
        unknown keys (dotted path + did-you-mean), wrong types or values,
        data files that do not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(tr("scenario.not_found", file=path))
    try:
        text = path.read_bytes().decode("utf-8-sig")
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        match = _TOML_POSITION.match(str(err))
        if match is None:  # pragma: no cover - tomllib always reports a position
            raise ScenarioError(
                tr("scenario.unreadable", file=path, detail=err)
            ) from None
        raise ScenarioError(
            tr(
                "scenario.toml_syntax",
                file=path,
                line=match["line"],
                column=match["col"],
                detail=match["detail"],
            )
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError(tr("scenario.unreadable", file=path, detail=err)) from None
    base_dir = path.resolve().parent
    source = path.resolve()
    if "scenario" not in document:
        return [
            scenario_from_dict(
                document, base_dir=base_dir, source=source, default_name=path.stem
            )
        ]
    tables = document.pop("scenario")
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ScenarioError(tr("scenario.scenario_list", file=path))
    return [
        scenario_from_dict(
            _deep_merge(document, table),
            base_dir=base_dir,
            source=source,
            prefix=f"scenario[{i + 1}].",
            default_name=f"{path.stem}-{i + 1}",
        )
        for i, table in enumerate(tables)
    ]


#: Overrides the CLI may apply to ``[solver]`` (None values are ignored).
OVERRIDE_KEYS = ("time_limit", "seed", "workers")


def apply_overrides(
    spec: ScenarioSpec, overrides: Mapping[str, object] | None
) -> ScenarioSpec:
    """Return ``spec`` with ``[solver]`` keys replaced by non-None ``overrides``.

    Why a new spec: the manifest records the scenario *as run*, so a
    ``--seed 3`` on the command line is visible in ``plan.json``.
    """
    changes = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = set(changes) - set(OVERRIDE_KEYS)
    if unknown:
        raise ValueError(
            f"unknown overrides {sorted(unknown)}; allowed {OVERRIDE_KEYS}"
        )
    if not changes:
        return spec
    try:
        solver = SolverSpec.model_validate({**spec.solver.model_dump(), **changes})
    except ValidationError as err:
        lines = [
            describe_validation_error(e, SolverSpec, "solver.") for e in err.errors()
        ]
        raise ScenarioError("\n".join(lines)) from None
    new = spec.model_copy(update={"solver": solver})
    new._source = spec.source
    return new


def _mapping(spec: ScenarioSpec) -> ColumnMapping:
    d = spec.data
    return ColumnMapping(
        id=d.id,
        name=d.name,
        function=d.function,
        region=d.region,
        lat=d.lat,
        lon=d.lon,
        current_cluster=d.current_cluster,
    )


def resolve_rules(spec: ScenarioSpec, n_units: int) -> Rules:
    """The :class:`Rules` of ``spec`` with the documented defaults for ``n_units``."""
    c = spec.clusters
    if c.count is None and c.min_count is None:
        k_min = k_max = max(1, round(n_units / 6))
    else:
        k_min = c.count if c.count is not None else c.min_count  # type: ignore[assignment]
        k_max = c.count if c.count is not None else c.max_count  # type: ignore[assignment]
    min_size = (
        c.min_size
        if c.min_size is not None
        else max(1, math.floor(0.5 * n_units / k_max))
    )
    max_size = c.max_size
    if max_size is None:
        max_size = max(min_size, math.ceil(1.5 * n_units / k_min))
    r = spec.rules
    return Rules(
        n_clusters=k_min if k_min == k_max else None,
        min_count=None if k_min == k_max else k_min,
        max_count=None if k_min == k_max else k_max,
        min_size=min_size,
        max_size=max_size,
        balance=dict(spec.balance),
        contiguous=r.contiguous,
        one_region=r.one_region,
        one_function=r.one_function,
        max_moves=r.max_moves,
        together=tuple(tuple(g) for g in r.together),
        apart=tuple(tuple(g) for g in r.apart),
        fixed=dict(r.fixed),
        stability_weight=r.stability_weight,
    )


def resolve_similarity(spec: ScenarioSpec, profiles: Profiles) -> dict[str, float]:
    """``[similarity]`` weights, or the documented default for this table."""
    if spec.similarity:
        return {k: w for k, w in spec.similarity.items() if w > 0}
    frame = profiles.frame
    weights: dict[str, float] = {}
    if frame["functions"].map(len).gt(0).any():
        weights["function"] = 1.0
    if frame["region"].notna().any():
        weights["region"] = 1.0
    if profiles.has_location:
        weights["location"] = 1.0
    if not weights:
        weights = {c: 1.0 for c in profiles.numeric_columns if frame[c].notna().all()}
    return weights


def build_problem(
    spec: ScenarioSpec, *, overrides: Mapping[str, object] | None = None
) -> Problem:
    """Load the scenario's data and turn it into a validated :class:`Problem`.

    Raises
    ------
    InputError
        The unit table or adjacency file has defects, or a column used for
        balance/similarity has empty cells.
    ScenarioError
        The scenario does not fit the data (every problem listed at once).
    """
    spec = apply_overrides(spec, overrides)
    profiles = load_units(
        spec.data.units,
        mapping=_mapping(spec),
        sheet=spec.data.sheet,
        decimal_comma=spec.data.decimal_comma,
    )
    rules = resolve_rules(spec, profiles.n_units)
    weights = resolve_similarity(spec, profiles)
    problems = check_against_data(spec, profiles, rules, weights)
    if problems:
        file_label = str(spec.source) if spec.source is not None else "<scenario>"
        header = tr(
            "scenario.build_header", file=file_label, name=spec.name, n=len(problems)
        )
        raise ScenarioError("\n".join([header, *(f"  - {p}" for p in problems)]))
    if spec.balance:
        require_complete(profiles, list(spec.balance), tr("scenario.purpose_balance"))
    scale_weights = [
        k for k in weights if k in profiles.numeric_columns or k == "location"
    ]
    if scale_weights:
        require_complete(profiles, scale_weights, tr("scenario.purpose_similarity"))
    graph = None
    if spec.data.adjacency is not None:
        pairs = load_adjacency(spec.data.adjacency, profiles.unit_ids)
        graph = build_adjacency_graph(profiles.unit_ids, pairs)
    settings = SolverSettings(
        time_limit_s=float(spec.solver.time_limit),
        seed=spec.solver.seed,
        num_workers=spec.solver.workers,
    )
    return Problem(
        name=spec.name,
        profiles=profiles,
        features=build_features(profiles, weights),
        rules=rules,
        settings=settings,
        graph=graph,
    )
