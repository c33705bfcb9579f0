"""Benchmark instances: cumkhoi's own synthetic tables and feature matrix.

Why build them through cumkhoi's public path (``write_sample`` → ``load_units``
→ ``build_features``): the baselines must see exactly the encoding and weights
cumkhoi optimises, otherwise a dispersion ratio would compare two different
feature spaces. Each instance is prepared once by the parent process and saved
as ``.npz`` (features, population) next to the unit CSV; every method's
subprocess reads the same files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.measure import default_n_clusters, size_bounds

#: The scale column balanced in scenario F and used for similarity.
POPULATION = "population"
#: Similarity weights: "function, scale (population) and location" (issue 7).
WEIGHTS: dict[str, float] = {"function": 1.0, POPULATION: 1.0, "location": 1.0}
#: Balance tolerance of scenario F (±10 %).
TOLERANCE_F = 0.10


@dataclass(frozen=True, slots=True)
class Instance:
    """One seeded table at one size, with the rules both scenarios share."""

    n_units: int
    seed: int
    n_clusters: int
    min_size: int
    max_size: int
    units_path: Path
    arrays_path: Path

    @property
    def key(self) -> str:
        return f"n{self.n_units}_s{self.seed}"

    def to_json(self) -> dict[str, object]:
        return {
            "n_units": self.n_units,
            "seed": self.seed,
            "n_clusters": self.n_clusters,
            "min_size": self.min_size,
            "max_size": self.max_size,
            "units_path": str(self.units_path),
            "arrays_path": str(self.arrays_path),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Instance:
        return cls(
            n_units=int(data["n_units"]),  # type: ignore[arg-type]
            seed=int(data["seed"]),  # type: ignore[arg-type]
            n_clusters=int(data["n_clusters"]),  # type: ignore[arg-type]
            min_size=int(data["min_size"]),  # type: ignore[arg-type]
            max_size=int(data["max_size"]),  # type: ignore[arg-type]
            units_path=Path(str(data["units_path"])),
            arrays_path=Path(str(data["arrays_path"])),
        )

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Feature matrix values and population, in unit order."""
        with np.load(self.arrays_path) as data:
            return data["values"], data["population"]


def load_problem_inputs(units_path: Path):
    """Profiles and FeatureMatrix through cumkhoi's public loader and encoder."""
    from features.engineer import build_features
    from features.load import load_units

    profiles = load_units(units_path)
    return profiles, build_features(profiles, WEIGHTS)


def prepare_instance(
    n_units: int, seed: int, work_dir: Path, n_clusters: int | None = None
) -> Instance:
    """Write the seeded sample table and its feature arrays under ``work_dir``."""
    from features.sample import write_sample

    k = n_clusters or default_n_clusters(n_units)
    lo, hi = size_bounds(n_units, k)
    inst_dir = work_dir / f"n{n_units}_s{seed}"
    units_path, _adjacency = write_sample(inst_dir, n_units, seed=seed, force=True)
    profiles, features = load_problem_inputs(Path(units_path))
    arrays_path = inst_dir / "arrays.npz"
    np.savez(
        arrays_path,
        values=np.asarray(features.values, dtype=np.float64),
        population=profiles.column_values(POPULATION),
    )
    return Instance(
        n_units=n_units,
        seed=seed,
        n_clusters=k,
        min_size=lo,
        max_size=hi,
        units_path=Path(units_path),
        arrays_path=arrays_path,
    )


def instance_from_arrays(
    values: np.ndarray,
    population: np.ndarray,
    work_dir: Path,
    *,
    n_clusters: int,
    min_size: int,
    max_size: int,
    seed: int = 0,
) -> Instance:
    """A hand-made instance (tests): arrays only, so only the baselines can run on it."""
    work_dir.mkdir(parents=True, exist_ok=True)
    arrays_path = work_dir / f"arrays_n{len(values)}_s{seed}.npz"
    np.savez(
        arrays_path,
        values=np.asarray(values, float),
        population=np.asarray(population, float),
    )
    return Instance(
        n_units=len(values),
        seed=seed,
        n_clusters=n_clusters,
        min_size=min_size,
        max_size=max_size,
        units_path=work_dir / "no-table.csv",
        arrays_path=arrays_path,
    )
