"""Refuse ``$regex`` patterns that backtrack exponentially, such as ``(a+)+$``.

Patterns run in Python's backtracking engine inside a SQLite function call, where the
query deadline cannot interrupt them: one request matching ``^(a+)+$`` against a
35-character value would hold a worker for hours. The classic cause is an unbounded
repetition nested in another (``(a+)+``, ``(\\w*\\s?)*``, ``(.*a){20}``), which the
parsed pattern shows plainly, so those are refused before the query runs. Atomic
groups and possessive quantifiers (``(?>a+)+``, ``(a++)+``) cannot backtrack and pass.
This does not catch every slow pattern: overlapping alternatives like ``(a|aa)+`` do
not nest quantifiers, and consecutive ones (``.*a.*b``) backtrack polynomially, which
over long stored text is still minutes (see the not-run xfail in
``tests/security/test_injection.py``); bounding those needs a time-limited engine.
"""

from __future__ import annotations

from typing import Any

try:  # Python 3.11+
    from re import _constants as _c
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - Python 3.9 and 3.10
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

__all__ = ["is_nested_repetition"]

_LOOP = 10  # a repetition allowing more than this many rounds counts as a loop
_REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT)
_SAFE = tuple(
    getattr(_c, name) for name in ("POSSESSIVE_REPEAT", "ATOMIC_GROUP") if hasattr(_c, name)
)


def is_nested_repetition(pattern: str, flags: int = 0) -> bool:
    """Whether a loop of the pattern repeats something that has a variable length."""
    try:
        return _nested(_sre_parse.parse(pattern, flags), in_loop=False)
    except (_c.error, OverflowError, RecursionError):
        return False  # not ours to judge: compiling reports the error


def _nested(items: Any, in_loop: bool) -> bool:
    for op, av in items:
        if op in _SAFE:
            continue
        if op in _REPEATS:
            low, high, body = av
            if in_loop and low != high:
                return True
            if _nested(body, in_loop or high > _LOOP):
                return True
        elif any(_nested(child, in_loop) for child in _children(op, av)):
            return True
    return False


def _children(op: Any, av: Any) -> list:
    """The sub-patterns directly inside one parsed item (groups, branches, lookarounds)."""
    if op == _c.SUBPATTERN:
        return [av[-1]]
    if op == _c.BRANCH:
        return list(av[1])
    if op in (_c.ASSERT, _c.ASSERT_NOT):
        return [av[1]]
    if op == _c.GROUPREF_EXISTS:
        return [branch for branch in av[1:] if branch is not None]
    return []
