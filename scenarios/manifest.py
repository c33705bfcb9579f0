"""The audit record of a run: what went in, with which settings and software.

Why: a plan may end up in an official decision; months later someone must be
able to tell which unit table (by SHA-256, not by name), which scenario and
seed, and which versions of cumkhoi and OR-Tools produced it, and re-run it.

Everything in the manifest is deterministic for the same inputs except the
``run`` section (timestamps, host), which determinism checks and golden
comparisons must skip.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from scenarios.definition import ScenarioSpec

#: Sections of the manifest that change between identical runs.
VOLATILE_KEYS = ("run",)

_CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks (tables can be large)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def software_versions() -> dict[str, str]:
    """Versions of the software that decides the plan."""
    return {
        "cumkhoi": _version("cumkhoi"),
        "ortools": _version("ortools"),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "pandas": _version("pandas"),
        "scikit-learn": _version("scikit-learn"),
    }


def input_files(spec: ScenarioSpec) -> dict[str, dict[str, Any]]:
    """Role -> {path, sha256, bytes} for the scenario file and its data files."""
    files: dict[str, Path | None] = {
        "scenario": spec.source,
        "units": spec.data.units,
        "adjacency": spec.data.adjacency,
    }
    return {
        role: {
            "path": str(path),
            "sha256": sha256_of(path),
            "bytes": path.stat().st_size,
        }
        for role, path in files.items()
        if path is not None and path.is_file()
    }


def build_manifest(
    spec: ScenarioSpec, *, started_at: dt.datetime | None = None
) -> dict[str, Any]:
    """The manifest written into ``plan.json`` (``manifest`` key).

    ``scenario`` is the scenario as resolved (absolute paths, CLI overrides
    applied) so :func:`scenarios.definition.scenario_from_dict` can rebuild
    it; ``run`` holds the volatile facts (see :data:`VOLATILE_KEYS`).
    """
    now = dt.datetime.now(dt.timezone.utc)
    return {
        "inputs": input_files(spec),
        "scenario_file": str(spec.source) if spec.source is not None else None,
        "scenario": spec.resolved(),
        "seed": spec.solver.seed,
        "workers": spec.solver.workers,
        "time_limit_s": spec.solver.time_limit,
        "versions": software_versions(),
        "run": {
            "started_at": (started_at or now).isoformat(timespec="seconds"),
            "finished_at": now.isoformat(timespec="seconds"),
            "platform": platform.platform(),
            "command": " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:]),
        },
    }


def stable_part(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest without its volatile sections (for determinism checks)."""
    return {k: v for k, v in manifest.items() if k not in VOLATILE_KEYS}
