"""JSON text from clients: standard JSON only, nested no deeper than ``MAX_DEPTH``.

Every walk over a decoded value (field operations, the query parser, the codec) is
recursive, so a body like ``[[[[...]]]]`` a few hundred levels deep would exhaust the
interpreter's stack far from the parser. Refusing it here, once, keeps those walks
simple. ``NaN``, ``Infinity`` and numbers beyond a double (``1e999``) cannot be stored
as JSON, so they are refused too.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 100


class JsonInputError(ValueError):
    """The text is not JSON we accept; callers turn it into their LeanCloud code."""


def loads(text: Any) -> Any:
    """Decode ``text`` (str or UTF-8 bytes), refusing constants and deep nesting."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
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


def _finite(text: str) -> float:
    """``1e999`` is valid JSON but no double: Python would read it as infinity."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value
