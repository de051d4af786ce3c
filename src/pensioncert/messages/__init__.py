"""Message catalogues: every user-facing text, zh-CN first, English second.

Each concern owns one TOML file in ``catalogue/`` (``domain.toml``, ``face.toml`` …)
whose tables are message codes with ``zh`` and ``en`` templates using
``str.format`` fields. Codes are stable: APIs return them, tests assert on them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

LANGUAGES = ("zh-CN", "en")
_LANG_KEYS = {"zh-CN": "zh", "zh": "zh", "en": "en"}


class UnknownMessage(KeyError):
    """A code that no catalogue defines: a programming error, never shown to users."""


def _flatten(prefix: str, table: Mapping[str, Any], into: dict[str, dict[str, str]]) -> None:
    if "zh" in table and "en" in table and isinstance(table["zh"], str):
        into[prefix] = {"zh": table["zh"], "en": table["en"]}
        return
    for key, value in table.items():
        if isinstance(value, Mapping):
            _flatten(f"{prefix}.{key}" if prefix else key, value, into)


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """All messages, keyed by dotted code (``decision.not_yet``)."""
    messages: dict[str, dict[str, str]] = {}
    for entry in sorted(resources.files(__package__).joinpath("catalogue").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            _flatten("", tomllib.loads(entry.read_text(encoding="utf-8")), messages)
    return messages


def normalise_language(language: str | None) -> str:
    """Map a request's language to a catalogue key; anything unknown falls back to Chinese."""
    if language and language.lower().startswith("en"):
        return "en"
    return "zh"


def text(code: str, language: str | None = "zh-CN", **params: Any) -> str:
    """The message for ``code`` in ``language`` with ``params`` filled in."""
    try:
        entry = catalogue()[code]
    except KeyError as missing:
        raise UnknownMessage(code) from missing
    return entry[normalise_language(language)].format(**params)


def both(code: str, **params: Any) -> dict[str, str]:
    """The message in both languages, as APIs return it."""
    return {"zh": text(code, "zh", **params), "en": text(code, "en", **params)}
