"""Per-request state: the calling user, its session token and the request's metadata.

The user lives in ``leancloud.context.current_user`` (a ``ContextVar``) only while a
request is handled: ``request_scope`` sets it and resets it afterwards, also when the
handler raises. Two requests served at the same time (threads, greenlets, tasks)
therefore never see each other's user, and nothing of a request leaks into the
outbound calls made after it (the official SDK left the user in a thread-local).
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, Optional

from werkzeug.local import LocalProxy

from leancloud import context
from leancloud.engine.errors import LeanEngineError
from leancloud.errors import LeanCloudError
from leancloud.user import USER_NOT_FOUND, User

__all__ = ["Current", "current", "request_scope", "resolve_user", "user"]


@dataclass(frozen=True)
class _RequestState:
    session_token: Optional[str] = None
    meta: Dict[str, Any] = field(default_factory=dict)


_state: ContextVar[Optional[_RequestState]] = ContextVar("leancloud_engine_request", default=None)


class Current:
    """``engine.current``: the user, session token and metadata of the request being served."""

    @property
    def user(self) -> Optional[User]:
        return context.current_user.get()

    @property
    def session_token(self) -> Optional[str]:
        state = _state.get()
        return state.session_token if state else None

    @property
    def meta(self) -> Dict[str, Any]:
        """``{"remote_address": ...}`` of the caller."""
        state = _state.get()
        return state.meta if state else {}


current = Current()
# ``leancloud.engine.user``: the official SDK's older name for ``current.user``, kept so
# apps written against it keep working; ``None`` (falsy) outside a request with a user.
user: Any = LocalProxy(context.current_user)


def resolve_user(
    session_token: Optional[str], fetch_user: bool, trusted_user: Any = None
) -> Optional[User]:
    """The calling user: fetched from its session token (``fetch_user``), or just the token,
    or built from the ``user`` the platform sent with a hook call (``trusted_user``)."""
    if session_token:
        if not fetch_user:
            user = User()
            user._update_data({"sessionToken": session_token})
            return user
        try:
            return User.become(session_token)
        except LeanCloudError as error:
            if error.code != USER_NOT_FOUND:
                raise
            message = f"Verify sessionToken failed, maybe login expired: {error.error}"
            raise LeanEngineError(USER_NOT_FOUND, message, status=401) from None
    if isinstance(trusted_user, dict) and trusted_user:
        user = User()
        user._update_data(trusted_user)
        return user
    return None


@contextmanager
def request_scope(
    session_token: Optional[str],
    meta: Dict[str, Any],
    fetch_user: bool,
    trusted_user: Any = None,
) -> Iterator[Optional[User]]:
    """Make the request's user current while the block runs, and restore the previous one."""
    user_token = context.current_user.set(None)  # fetching the user must not act as anyone
    try:
        user = resolve_user(session_token, fetch_user, trusted_user)
        token = session_token or (user.session_token if user else None)
        state_token = _state.set(_RequestState(session_token=token, meta=meta))
        try:
            context.current_user.set(user)
            yield user
        finally:
            _state.reset(state_token)
    finally:
        context.current_user.reset(user_token)
