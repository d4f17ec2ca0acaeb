"""The account hooks: ``onLogin``, ``onVerified`` and ``onAuthData``.

The users service calls them through its seam, ``services.users.hooks``, which knows
neither the request nor the Engine; ``AccountHooks`` (installed there by ``create_app``
when an Engine is configured) finds both in ``engine_scope``, which the HTTP layer opens
around every handler. Without an Engine, or outside a request, they do nothing.

* ``onLogin`` decides whether a log-in succeeds: a refusal fails it with the hook's own
  code and message, and status 401 (LeanCloud's documented answer). The users service asks inside its write transaction, but
  the Engine is called once the transaction is over and before the answer goes out, so
  the database is never locked while the Engine thinks (or calls the server back). The
  refused caller gets no session token; the log-in's own bookkeeping (failed attempts
  cleared, a first token minted) stays, as after any correct password.
* ``onAuthData`` runs before an authData log-in or link and may return changed authData.
* ``onVerified`` runs once the request has succeeded (after the commit); its failures
  are only logged.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional

from leancloud.engine.registry import ON_AUTH_DATA, ON_LOGIN, on_verified_name
from leancloud.server.errors import ApiError
from leancloud.server.hooks.client import EngineClient, EngineReply
from leancloud.server.services import users

__all__ = ["AccountHooks", "engine_scope", "install"]

log = logging.getLogger("leancloud.server.engine")


@dataclass
class _Scope:
    client: EngineClient
    production: bool
    before_reply: List[Callable[[], None]] = field(default_factory=list)
    after_success: List[Callable[[], None]] = field(default_factory=list)

    def post(self, path: str, body: Dict[str, Any]) -> Optional[EngineReply]:
        """The Engine's answer; None when it does not define the hook after all."""
        reply = self.client.post(path, body, hook=True, production=self.production)
        return None if reply.status == 404 else reply


_scope: ContextVar[Optional[_Scope]] = ContextVar("leancloud_server_engine", default=None)


@contextmanager
def engine_scope(client: Optional[EngineClient], production: bool = True) -> Iterator[None]:
    """Let the account hooks reach ``client`` while a handler runs. When it returns (not
    when it raises), the deferred checks run (``onLogin``: they may still fail the
    request), then the deferred notifications (``onVerified``)."""
    if client is None:
        yield
        return
    scope = _Scope(client, production)
    token = _scope.set(scope)
    try:
        yield
    finally:
        _scope.reset(token)
    for check in scope.before_reply:
        check()
    for call in scope.after_success:
        call()


def _active(name: str) -> Optional[_Scope]:
    scope = _scope.get()
    return scope if scope is not None and scope.client.defines(name) else None


def hook_error(reply: EngineReply, status: Optional[int] = None) -> ApiError:
    """The hook's own refusal, as the client will see it (with ``status`` if given)."""
    body = reply.body if isinstance(reply.body, dict) else {}
    code = body.get("code") if isinstance(body.get("code"), int) else 1
    message = body.get("error") or f"LeanEngine answered HTTP {reply.status}"
    return ApiError(code, str(message), status or reply.status)


class AccountHooks(users.UserHooks):
    def before_log_in(self, reader: Any, user_id: str) -> None:
        scope = _active(ON_LOGIN)
        if scope is None:
            return
        body = {"object": users.render_user(reader, user_id)}

        def check() -> None:
            reply = scope.post("/1.1/functions/_User/onLogin", body)
            if reply is not None and not reply.ok:
                raise hook_error(reply, status=401)

        scope.before_reply.append(check)

    def after_verified(self, reader: Any, user_id: str, kind: str) -> None:
        scope = _active(on_verified_name(kind))
        if scope is None:
            return
        body = {"object": users.render_user(reader, user_id)}

        def call() -> None:
            try:
                reply = scope.post(f"/1.1/functions/onVerified/{kind}", body)
            except ApiError as exc:
                reply, failure = None, exc.message
            else:
                failure = None if reply is None or reply.ok else repr(reply.body)
            if failure is not None:
                log.warning("onVerified(%s) of user %s failed: %s", kind, user_id, failure)

        scope.after_success.append(call)

    def before_auth_data(self, auth_data: Dict[str, Any]) -> Dict[str, Any]:
        scope = _active(ON_AUTH_DATA)
        if scope is None:
            return auth_data
        reply = scope.post("/1.1/functions/_User/onAuthData", {"authData": auth_data})
        if reply is None:
            return auth_data
        if not reply.ok:
            raise hook_error(reply)
        result = reply.body.get("result") if isinstance(reply.body, dict) else None
        return result if isinstance(result, dict) else auth_data


def install() -> None:
    """Make the users service call the Engine's account hooks (idempotent)."""
    if not isinstance(users.hooks, AccountHooks):
        users.hooks = AccountHooks()
