"""Reading a number written by a person, in either Vietnamese or English style.

Why not ``float()``: it accepts ``"1_000"`` and ``"nan"``, and rejects
``1.234.567`` and ``1 234 567`` that planners type. Accepted forms, by
``decimal_comma``:

* default: ``1234``, ``-1234.5``, ``1e6``; thousands grouped by ``,`` or a
  space (``1,234,567.5``, ``1 234 567``) and ``1.234.567`` (two or more dot
  groups cannot be a decimal). A single ``1.234`` is one point two three four.
* ``decimal_comma=True``: ``1234,5``; thousands grouped by ``.`` or a space
  (``1.234.567,5``); so ``1.234`` is one thousand two hundred thirty-four.

``NaN``/``inf`` written as text come back as ``nan``/``inf`` so the caller
can report them (a figure nobody knows is an empty cell, not a number).
"""

from __future__ import annotations

import math
import re

_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-"})
_SPACES = "[ \u00a0\u202f]"
_EXP = r"(?:[eE][+-]?\d+)?"
_PATTERNS = {
    False: (
        re.compile(rf"[+-]?(?:\d+(?:\.\d*)?|\.\d+){_EXP}"),
        re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?"),
        re.compile(rf"[+-]?\d{{1,3}}(?:{_SPACES}\d{{3}})+(?:\.\d+)?"),
        re.compile(r"[+-]?\d{1,3}(?:\.\d{3}){2,}"),
    ),
    True: (
        re.compile(rf"[+-]?(?:\d+(?:,\d*)?|,\d+){_EXP}"),
        re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?"),
        re.compile(rf"[+-]?\d{{1,3}}(?:{_SPACES}\d{{3}})+(?:,\d+)?"),
    ),
}
_PLAIN = _PATTERNS[False][0]
_NONFINITE = re.compile(r"[+-]?(?:nan|inf|infinity|#num!|#div/0!)", re.IGNORECASE)


def parse_number(text: str, decimal_comma: bool = False) -> float | None:
    """The number written in ``text``, or None if it is not one (see module doc).

    ``NaN``/``inf`` text returns ``nan``/``inf`` so callers can report it.
    """
    text = text.strip()
    if not decimal_comma and _PLAIN.fullmatch(text):  # fast path: most cells
        return float(text)
    text = text.translate(_MINUS)
    if _NONFINITE.fullmatch(text):
        return math.inf if "inf" in text.lower() else math.nan
    for index, pattern in enumerate(_PATTERNS[decimal_comma]):
        if pattern.fullmatch(text):
            if decimal_comma:
                clean = re.sub(_SPACES, "", text)
                clean = clean.replace(".", "") if index else clean
                return float(clean.replace(",", "."))
            clean = re.sub(_SPACES, "", text).replace(",", "")
            return float(clean.replace(".", "")) if index == 3 else float(clean)
    return None
