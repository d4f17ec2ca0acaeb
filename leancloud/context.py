"""Per-context state: who the current user is.

A ``ContextVar`` (not a thread-local, as in the official SDK) so that the current user
never leaks across threads, WSGI requests or asyncio tasks.
"""
from contextvars import ContextVar
from typing import Any, Optional

current_user: "ContextVar[Optional[Any]]" = ContextVar("leancloud_current_user", default=None)


def session_token() -> Optional[str]:
    """The session token of the current user, if there is one."""
    user = current_user.get()
    if user is None:
        return None
    return getattr(user, "session_token", None)
