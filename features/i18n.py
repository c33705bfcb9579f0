"""Message catalogue: every user-facing sentence exists in Vietnamese and English.

Why a catalogue instead of f-strings: planners read Vietnamese first, analysts
often English, and both must get *the same* facts. Each package registers its
own messages with :func:`register`; :func:`tr` renders one in the language set
by :func:`set_language` (the CLI sets it once from ``--lang``; the default is
Vietnamese).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

LANGUAGES = ("vi", "en")
_lang: ContextVar[str] = ContextVar("cumkhoi_lang", default="vi")
_catalogue: dict[str, dict[str, str]] = {}


def register(messages: Mapping[str, Mapping[str, str]]) -> None:
    """Add messages ``{key: {"vi": ..., "en": ...}}``; both languages are required."""
    for key, texts in messages.items():
        missing = [lang for lang in LANGUAGES if lang not in texts]
        if missing:
            raise ValueError(f"message {key!r} lacks {missing}")
        if key in _catalogue and dict(_catalogue[key]) != dict(texts):
            raise ValueError(f"message {key!r} registered twice with different text")
        _catalogue[key] = dict(texts)


def set_language(lang: str) -> None:
    """Choose the language of every message rendered afterwards."""
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {lang!r}")
    _lang.set(lang)


def get_language() -> str:
    return _lang.get()


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Render messages in ``lang`` inside the block (tests, reports)."""
    token = _lang.set(lang)
    try:
        yield
    finally:
        _lang.reset(token)


def tr(key: str, /, **params: object) -> str:
    """Render message ``key`` in the current language with ``params``."""
    try:
        template = _catalogue[key][_lang.get()]
    except KeyError:
        raise KeyError(f"unknown message key {key!r}") from None
    return template.format(**params)


def has_message(key: str) -> bool:
    return key in _catalogue
