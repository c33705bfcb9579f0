"""Loading unit tables and adjacency files: read as text, then validated.

:func:`load_units` reads a table with :func:`features.reader.read_table`
(encodings, separators, XLSX; every cell as text) and hands it to
:func:`features.validate.validate_profiles`; :func:`load_adjacency` reads
neighbour pairs and checks every id against the unit table. ``RawTable`` and
``read_table`` are re-exported from here, where callers have always found them.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Sequence
from pathlib import Path

import features.messages_load  # noqa: F401  (registers the load.* messages)
from features.errors import Problem, Report
from features.i18n import tr
from features.limits import check_unit_count
from features.reader import RawTable, _read_records, read_table
from features.types import ColumnMapping, Profiles, UnitId
from features.validate import validate_profiles

__all__ = ["InputWarning", "RawTable", "load_adjacency", "load_units", "read_table"]


class InputWarning(UserWarning):
    """A soft defect of an input file (e.g. a repeated adjacency pair), merged or ignored."""


def load_units(
    path: str | Path,
    *,
    mapping: ColumnMapping = ColumnMapping(),  # noqa: B008 - frozen, safe default
    sheet: str | None = None,
    decimal_comma: bool = False,
) -> Profiles:
    """Read and validate a unit table (see :func:`features.validate.validate_profiles`).

    Raises
    ------
    InputError
        Listing every defect of the file at once.
    """
    raw = read_table(path, sheet=sheet, decimal_comma=decimal_comma)
    check_unit_count(raw.n_rows, raw.source)  # configurable: features/limits.py
    return validate_profiles(raw, mapping)


_LOOK_ALIKE = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1"})


def _suggest(value: str, known: Sequence[str], known_set: set[str]) -> str:
    """A did-you-mean hint: lost zeros and look-alikes (O for 0) first, then difflib."""
    for candidate in (value, value.translate(_LOOK_ALIKE)):
        for width in range(len(candidate), len(candidate) + 4):
            padded = candidate.zfill(width)
            if candidate.isdigit() and padded != value and padded in known_set:
                return tr("load.adj_unknown_close", close=repr(padded))
    close = difflib.get_close_matches(value, known, n=3, cutoff=0.6)
    if close:
        return tr("load.adj_unknown_close", close=" / ".join(repr(c) for c in close))
    return tr("load.adj_unknown_hint")


def load_adjacency(
    path: str | Path, unit_ids: Sequence[UnitId]
) -> list[tuple[UnitId, UnitId]]:
    """Read undirected neighbour pairs from the first two columns of a CSV/XLSX file.

    The header is optional: the first row is taken as a header when neither of
    its two values is a known unit id (a row with one known id is data, so a
    typo in the first pair is reported rather than swallowed). Ids are NFC
    text, compared after stripping spaces.

    Parameters
    ----------
    path
        The adjacency file (``a,b`` or ``u,v`` header, or none).
    unit_ids
        Ids of the validated unit table.

    Returns
    -------
    list of (UnitId, UnitId)
        One pair per distinct neighbour relation, in file order and orientation.
        Repeated pairs (in either orientation) are merged with an
        :class:`InputWarning`.

    Raises
    ------
    InputError
        Every row naming an unknown id (with a did-you-mean), a unit paired with
        itself, an empty id, or fewer than two columns.
    """
    path = Path(path)
    records, _ = _read_records(path, None, False)
    known = [str(u) for u in unit_ids]
    known_set = set(known)
    report = Report()
    source = path.name
    start = 0
    first = [c.strip() for c in (records[0] if records else [])][:2]
    if len(first) == 2 and first[0] not in known_set and first[1] not in known_set:
        start = 1
    pairs: list[tuple[UnitId, UnitId]] = []
    seen: dict[frozenset[str], int] = {}
    for excel_row, record in enumerate(records[start:], start=start + 1):
        cells = [c.strip() for c in record]
        if not any(cells):
            continue
        if len(cells) < 2:
            report.add(
                Problem(
                    source,
                    tr("load.adj_columns", n=len(cells)),
                    row=excel_row,
                    hint=tr("load.adj_empty_hint"),
                )
            )
            continue
        a, b = cells[0], cells[1]
        key = frozenset((a, b))
        if a != b and a in known_set and b in known_set and key not in seen:
            seen[key] = excel_row  # the common case, checked first for speed
            pairs.append((a, b))
            continue
        bad = False
        for column, value in zip(("A", "B"), (a, b), strict=True):
            if not value:
                report.add(
                    Problem(
                        source,
                        tr("load.adj_empty"),
                        excel_row,
                        column,
                        hint=tr("load.adj_empty_hint"),
                    )
                )
                bad = True
            elif value not in known_set:
                report.add(
                    Problem(
                        source,
                        tr("load.adj_unknown"),
                        excel_row,
                        column,
                        value,
                        _suggest(value, known, known_set),
                    )
                )
                bad = True
        if bad:
            continue
        if a == b:
            report.add(
                Problem(
                    source,
                    tr("load.adj_self", unit=a),
                    excel_row,
                    None,
                    a,
                    tr("load.adj_self_hint"),
                )
            )
            continue
        if key in seen:
            message = tr("load.adj_repeat", a=a, b=b, first=seen[key])
            report.add(Problem(source, message, row=excel_row, severity="warning"))
            continue
        seen[key] = excel_row
        pairs.append((a, b))
    report.raise_if_errors(source)
    for problem in report.problems:
        warnings.warn(problem.render(), InputWarning, stacklevel=2)
    return pairs
