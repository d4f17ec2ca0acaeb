"""JSON text from clients: standard JSON only, nested no deeper than ``MAX_DEPTH``.

Every walk over a decoded value (field operations, the query parser, the codec) is
recursive, so a body like ``[[[[...]]]]`` a few hundred levels deep would exhaust the
interpreter's stack far from the parser. Refusing it here, once, keeps those walks
simple. ``NaN`` and ``Infinity`` are not JSON and SQLite's JSON functions reject them.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 100


class JsonInputError(ValueError):
    """The text is not JSON we accept; callers turn it into their LeanCloud code."""


def loads(text: Any) -> Any:
    """Decode ``text`` (str or UTF-8 bytes), refusing constants and deep nesting."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise JsonInputError(f"nested deeper than {MAX_DEPTH} levels") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise JsonInputError(str(exc)) from None
    check_depth(value)
    return value


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """Raise ``JsonInputError`` if arrays/objects nest more than ``limit`` levels."""
    level = [value]
    for _ in range(limit + 1):
        level = [
            child
            for item in level
            if isinstance(item, (dict, list))
            for child in (item.values() if isinstance(item, dict) else item)
        ]
        if not level:
            return
    raise JsonInputError(f"nested deeper than {limit} levels")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
